namespace Sair.Engine.IO;

/// <summary>A weights, latent or array file that cannot be used; the message names the file and what is wrong.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file that could not be used.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the path.</summary>
    public string Problem { get; }

    /// <summary>Throws a clear "missing file" error when <paramref name="path"/> does not exist.</summary>
    public static void ThrowIfMissing(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new CheckpointException(path,
                Directory.Exists(path)
                    ? $"is a folder, not a {what} file."
                    : $"no such {what} file. Check the path (relative paths are resolved from {Environment.CurrentDirectory}).");
        }
    }
}
