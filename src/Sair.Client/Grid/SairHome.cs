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

    /// <summary>Where the local silo keeps its references' inversions and tuned generators across restarts.</summary>
    public string References => Path.Combine(Root, "references");

    public string SiloStateFile => Path.Combine(Root, "silo.json");

    public string SiloLog => Path.Combine(Root, "silo.log");

    /// <summary>Logs of earlier silo starts kept beside <see cref="SiloLog"/> (silo.log.1 the newest).</summary>
    public const int KeptSiloLogs = 3;

    /// <summary>
    /// Before a silo starts: the previous start's log becomes silo.log.1 (silo.log.1 → .2, …; the oldest beyond
    /// <see cref="KeptSiloLogs"/> goes), so each start has a log of its own and SAIR_HOME does not grow without end.
    /// </summary>
    public void RotateSiloLog()
    {
        if (!File.Exists(SiloLog) || new FileInfo(SiloLog).Length == 0)
        {
            return;
        }

        for (var n = KeptSiloLogs - 1; n >= 1; n--)
        {
            var older = $"{SiloLog}.{n}";
            if (File.Exists(older))
            {
                File.Move(older, $"{SiloLog}.{n + 1}", overwrite: true);
            }
        }

        File.Move(SiloLog, $"{SiloLog}.1", overwrite: true);
    }

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
