
namespace Sair.Silo.Tests.Support;

/// <summary>
/// One Azurite (Azure Storage emulator) per test collection: blob, queue and table on free 127.0.0.1 ports, data in
/// memory, stopped by its pid afterwards. Azurite comes from tools/azurite (bash setup.sh); without it the tests fail
/// rather than skip, so a missing emulator never passes for a green Azure path.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Azurite's documented development account (public, the same in every Azurite).</summary>
    private const string Account = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private ChildProcess? _process;
    private string? _workspace;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var script = Path.Combine(RepoPaths.Root, "tools", "azurite", "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException(
                $"Azurite is not installed ({script} is missing): run bash setup.sh (or bash tools/azurite/install.sh) once.");
        }

        int blob = FreePort.Next(), queue = FreePort.Next(), table = FreePort.Next();
        var workspace = _workspace = Directory.CreateTempSubdirectory("sair-azurite-").FullName;
        _process = ChildProcess.Start("node",
        [
            script, "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
            "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
            "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
        ], workspace);
        foreach (var port in new[] { blob, queue, table })
        {
            await FreePort.WaitUntilAcceptingAsync(port, TimeSpan.FromSeconds(60), () => _process.IsRunning, () => _process.Log);
        }

        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/{Account};QueueEndpoint=http://127.0.0.1:{queue}/{Account};" +
            $"TableEndpoint=http://127.0.0.1:{table}/{Account};";
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(5));
            await _process.DisposeAsync();
        }

        if (_workspace is not null)
        {
            Directory.Delete(_workspace, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
