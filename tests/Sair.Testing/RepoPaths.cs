namespace Sair.Testing;

/// <summary>Where the repository and the read-only <c>../shared</c> folder beside it are, found from the test binary.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The repository root (the folder holding SairGrid.sln).</summary>
    public static string Root => RootLazy.Value;

    /// <summary>The shared folder: $SAIR_SHARED if set, else ../shared beside the repository.</summary>
    public static string Shared
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("SAIR_SHARED");
            var path = string.IsNullOrEmpty(fromEnv) ? Path.GetFullPath(Path.Combine(Root, "..", "shared")) : fromEnv;
            if (!Directory.Exists(path))
            {
                throw new DirectoryNotFoundException(
                    $"The shared fixtures folder '{path}' does not exist. Put shared/ beside the repository or set SAIR_SHARED.");
            }
            return path;
        }
    }

    public static string SharedFile(params string[] parts) => Path.Combine([Shared, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SairGrid.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No SairGrid.sln above {AppContext.BaseDirectory}.");
    }
}
