namespace Sair.Client.Output;

/// <summary>
/// The only way the client writes result files: every path is checked to stay inside the output folder, and every
/// file is written to a temporary name beside its target and renamed over it, so an interrupted run never leaves a
/// half-written image or report behind.
/// </summary>
public sealed class OutputFolder
{
    public OutputFolder(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>
    /// What keeps <paramref name="root"/> from taking results, or null: checked before any work (the folder is created
    /// and a probe file written and deleted), so a read-only or mistyped -o fails in a second, not after the compute.
    /// </summary>
    public static string? WriteProblem(string root)
    {
        var full = Path.GetFullPath(root);
        if (File.Exists(full))
        {
            return $"-o/--output '{root}' is a file: name a folder for the results.";
        }

        var probe = Path.Combine(full, $".sair-write-check-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(full);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"-o/--output '{root}' cannot be written ({e.Message.TrimEnd('.')}): choose a folder you can write to.";
        }
    }

    /// <summary>Writes <paramref name="relativePath"/> ('/'-separated) atomically; returns the path relative to the root.</summary>
    public async Task<string> WriteAsync(string relativePath, byte[] content, CancellationToken cancellationToken)
    {
        var target = Resolve(relativePath);
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await stream.WriteAsync(content, cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }

            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        return relativePath;
    }

    /// <summary>The full path of <paramref name="relativePath"/>, refusing anything that resolves outside the root.</summary>
    public string Resolve(string relativePath)
    {
        if (string.IsNullOrWhiteSpace(relativePath) || Path.IsPathRooted(relativePath) || relativePath.Split('/', '\\').Contains(".."))
        {
            throw new ArgumentException($"Output path '{relativePath}' must be relative and must not contain '..'.", nameof(relativePath));
        }

        var full = Path.GetFullPath(Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar)));
        var prefix = Root.EndsWith(Path.DirectorySeparatorChar) ? Root : Root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Output path '{relativePath}' would leave the output folder {Root}.", nameof(relativePath));
        }

        return full;
    }
}
