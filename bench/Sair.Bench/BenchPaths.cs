namespace Sair.Bench;

/// <summary>The repository (the folder holding SairGrid.sln) and the shared fixtures beside it.</summary>
internal static class BenchPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SairGrid.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No SairGrid.sln above {AppContext.BaseDirectory}: run the bench from its build output in the repository.");
    });

    public static string Root => RootLazy.Value;

    /// <summary>$SAIR_SHARED if set, else ../shared beside the repository.</summary>
    public static string Shared(params string[] parts)
    {
        var fromEnv = Environment.GetEnvironmentVariable("SAIR_SHARED");
        var shared = string.IsNullOrEmpty(fromEnv) ? Path.GetFullPath(Path.Combine(Root, "..", "shared")) : fromEnv;
        return Path.Combine([shared, .. parts]);
    }
}
