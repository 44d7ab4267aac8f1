namespace Sair.Silo.Storage;

/// <summary>
/// An exclusive lock between the processes of one machine: FileShare.None on Unix is an flock, so a second process
/// opening the same lock file fails and retries here until the holder disposes it.
/// </summary>
internal static class FileLock
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static async Task<FileStream> AcquireAsync(string path)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }
        }
    }
}
