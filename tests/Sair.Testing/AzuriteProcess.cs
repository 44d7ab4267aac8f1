using System.Globalization;

namespace Sair.Testing;

/// <summary>
/// Azurite (the Azure Storage emulator from tools/azurite, installed by setup.sh) as a process on free 127.0.0.1
/// ports: in memory, or on disk in its own folder so that it can be stopped and started again with its data (a storage
/// outage). A missing Azurite is an error, never a skip.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>Azurite's documented development account (public, the same in every Azurite).</summary>
    private const string Account = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _workspace;
    private readonly bool _onDisk;
    private readonly int[] _ports = [FreePort.Next(), FreePort.Next(), FreePort.Next()];
    private ChildProcess? _process;

    private AzuriteProcess(string workspace, bool onDisk)
    {
        _workspace = workspace;
        _onDisk = onDisk;
        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{_ports[0]}/{Account};QueueEndpoint=http://127.0.0.1:{_ports[1]}/{Account};" +
            $"TableEndpoint=http://127.0.0.1:{_ports[2]}/{Account};";
    }

    public string ConnectionString { get; }

    public bool IsRunning => _process?.IsRunning == true;

    /// <param name="onDisk">Keep the data in a folder (survives <see cref="StopAsync"/> and <see cref="StartAgainAsync"/>); else in memory.</param>
    public static async Task<AzuriteProcess> StartAsync(bool onDisk = false)
    {
        var azurite = new AzuriteProcess(Directory.CreateTempSubdirectory("sair-azurite-").FullName, onDisk);
        await azurite.StartAgainAsync();
        return azurite;
    }

    /// <summary>Starts Azurite (again) on the same ports and, on disk, with the same data.</summary>
    public async Task StartAgainAsync()
    {
        var script = Path.Combine(RepoPaths.Root, "tools", "azurite", "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException(
                $"Azurite is not installed ({script} is missing): run bash setup.sh (or bash tools/azurite/install.sh) once.");
        }

        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        string[] storage = _onDisk ? ["--location", Path.Combine(_workspace, "data")] : ["--inMemoryPersistence"];
        _process = ChildProcess.Start("node",
        [
            script, .. storage, "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
            "--blobHost", "127.0.0.1", "--blobPort", Port(0),
            "--queueHost", "127.0.0.1", "--queuePort", Port(1),
            "--tableHost", "127.0.0.1", "--tablePort", Port(2),
        ], _workspace);
        foreach (var port in _ports)
        {
            await FreePort.WaitUntilAcceptingAsync(port, TimeSpan.FromSeconds(60), () => _process.IsRunning, () => _process.Log);
        }
    }

    /// <summary>
    /// Stops Azurite (SIGTERM, so that it saves what it acknowledged, as real storage keeps every acknowledged write):
    /// storage is unreachable until <see cref="StartAgainAsync"/>.
    /// </summary>
    public Task StopAsync() => _process?.StopAsync(TimeSpan.FromSeconds(15)) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(5));
            await _process.DisposeAsync();
        }

        Directory.Delete(_workspace, recursive: true);
    }

    private string Port(int index) => _ports[index].ToString(CultureInfo.InvariantCulture);
}
