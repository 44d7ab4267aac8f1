namespace Sair.Client.Grid;

/// <summary>
/// The per-user data folder: the local silo's image store, its state file and log, and the album history.
/// <c>SAIR_HOME</c> wins; otherwise <c>$XDG_DATA_HOME/sairgrid</c> or <c>~/.local/share/sairgrid</c>.
/// </summary>
public sealed class SairHome
{
    public SairHome(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>The image store the local silo and this client share.</summary>
    public string Images => Path.Combine(Root, "images");

    /// <summary>The local silo's grain state and reminders (survive a restart of the silo).</summary>
    public string State => Path.Combine(Root, "state");

    public string SiloStateFile => Path.Combine(Root, "silo.json");

    public string SiloLog => Path.Combine(Root, "silo.log");

    public string HistoryFile => Path.Combine(Root, "history.jsonl");

    public static SairHome FromEnvironment()
    {
        var explicitHome = Environment.GetEnvironmentVariable("SAIR_HOME");
        if (!string.IsNullOrWhiteSpace(explicitHome))
        {
            return new SairHome(explicitHome);
        }

        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrWhiteSpace(data))
        {
            data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        }

        return new SairHome(Path.Combine(data, "sairgrid"));
    }
}
