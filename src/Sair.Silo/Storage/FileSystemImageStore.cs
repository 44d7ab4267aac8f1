using Sair.Grains.Ports;

namespace Sair.Silo.Storage;

/// <summary>
/// The embedded default image store: blobs are files under one root folder. Writes go to a temporary file beside the
/// target and are renamed over it, so a crash never leaves a half-written photo or checkpoint behind.
/// All silos of a cluster must see the same folder (one machine, or a shared mount).
/// </summary>
public sealed class FileSystemImageStore : IImageStore
{
    private readonly string _root;

    public FileSystemImageStore(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
        {
            throw new ArgumentException("The image store needs a root folder (Sair:Silo:ImageRoot).", nameof(root));
        }

        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public async Task PutAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        var full = Resolve(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await stream.WriteAsync(content, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public async Task<byte[]> GetAsync(string path, CancellationToken cancellationToken)
    {
        var full = Resolve(path);
        try
        {
            return await File.ReadAllBytesAsync(full, cancellationToken);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"No blob at '{path}' (looked for {full}).", path, exception);
        }
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) => Task.FromResult(File.Exists(Resolve(path)));

    public Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        File.Delete(Resolve(path));
        return Task.CompletedTask;
    }

    /// <summary>Maps a store path to a file under the root, refusing paths that would leave it.</summary>
    private string Resolve(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || Path.IsPathRooted(path) || path.Split('/', '\\').Contains(".."))
        {
            throw new ArgumentException($"Image-store path '{path}' must be relative, '/'-separated and without '..'.", nameof(path));
        }

        return Path.Combine(_root, path.Replace('/', Path.DirectorySeparatorChar));
    }
}
