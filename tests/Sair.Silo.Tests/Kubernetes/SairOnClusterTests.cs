using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Sair.Grains.Albums;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Silo.Engine;
using Sair.Silo.Hosting;
using Sair.Silo.Tests.Engine;
using Sair.Silo.Tests.Support;
using Xunit.Abstractions;
using static Sair.Testing.SiloProcess;

namespace Sair.Silo.Tests.Kubernetes;

/// <summary>
/// sair against clusters as users start them: a coordinator and an engine silo as two OS processes, configured as the
/// k8s/base Deployments configure them (Azurite standing in for Azure Storage) or as README's "A local multi-silo
/// cluster" block starts them, and the built sair as its own process pointed at the coordinator's gateway (as after
/// 'kubectl port-forward'). sair holds no storage credentials and no image folder: photos go up and results come down
/// through the grid.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SairOnClusterTests(AzuriteFixture azurite, ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);

    private readonly string _work = Directory.CreateTempSubdirectory("sair-on-cluster-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Sair_enrolls_submits_watches_and_writes_results_through_the_gateway_of_a_grid_on_blob_storage()
    {
        // A fresh cluster id keeps these silos out of clusters other tests made in the same Azurite; the client is told it
        // as a user is told the manifests' (--cluster-id).
        var clusterId = $"k8s-path-{Guid.NewGuid():N}";
        var coordinator = ManifestSilo.Environment("sairgrid-silo", azurite.ConnectionString, clusterId);
        var engine = ManifestSilo.Environment("sairgrid-engine", azurite.ConnectionString, clusterId);
        Assert.Equal(SiloMetadataKeys.EngineRole, engine[Key(SairSiloOptions.Section, nameof(SairSiloOptions.Role))]);
        Assert.Equal(SairStorageOptions.AzureProvider, engine[Key(SairStorageOptions.Section, nameof(SairStorageOptions.Provider))]);
        // What a GPU pod has that this machine has not: the weights and training volumes.
        engine.Remove(Key(SairEngineOptions.Section, nameof(SairEngineOptions.EmotionDirectionsPath)));
        engine.Remove(Key(SairEngineOptions.Section, nameof(SairEngineOptions.TrainingRoot)));
        engine.Remove(Key(SairEngineOptions.Section, nameof(SairEngineOptions.TrainingDataRoot)));
        OnThisMachine(coordinator);
        OnThisMachine(engine);

        var album = "k8s-family";
        var photos = Directory.CreateDirectory(Path.Combine(_work, "photos")).FullName;
        foreach (var name in new[] { "John_Salley-1.jpg", "John_Salley-2.jpg" })
        {
            File.Copy(Path.Combine(RepoPaths.Root, "samples", "album", "photos", name), Path.Combine(photos, name));
        }

        var output = Path.Combine(_work, "out");
        var home = Path.Combine(_work, "sair-home");
        await using var silos = await SilosAsync(coordinator, engine);

        // Only the coordinator's gateway, as 'kubectl port-forward svc/sairgrid-gateway' gives a user.
        string[] grid = ["--cluster", $"127.0.0.1:{coordinator[Key(SairSiloOptions.Section, nameof(SairSiloOptions.GatewayPort))]}", "--cluster-id", clusterId];
        await SairAsync(home, silos, ["pool", "enroll", "family", "John Salley", Path.Combine(RepoPaths.Root, "samples", "album", "references", "John_Salley.jpg"), .. grid]);
        await SairAsync(home, silos, ["album", "submit", "-i", photos, "--aligned", "--pool", "family", "--person", "John Salley", "--album-id", album,
            "--iterations", "4", "--checkpoint-every", "2", .. grid]);
        var watched = await SairAsync(home, silos, ["album", "watch", album, "-o", Path.Combine(_work, "watched"), .. grid]);
        await SairAsync(home, silos, ["album", "results", album, "-o", output, .. grid]);
        Assert.Contains("2 of 2 restored", watched, StringComparison.Ordinal);

        // The results are blobs of the manifests' image container, read here with the Azure SDK itself ...
        var blobs = new BlobContainerClient(azurite.ConnectionString, coordinator[Key(SairStorageOptions.Section, nameof(SairStorageOptions.ImageContainer))]);
        var stored = new List<string>();
        await foreach (var blob in blobs.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"albums/{album}/", CancellationToken.None))
        {
            stored.Add(blob.Name);
        }

        Assert.Contains($"albums/{album}/manifest.json", stored);
        Assert.Equal(2, stored.Count(name => name.StartsWith($"albums/{album}/inputs/", StringComparison.Ordinal)));
        // Each face's restored aligned face (beside companions such as the photo with it pasted back).
        var results = stored.Where(name => name.StartsWith($"albums/{album}/results/", StringComparison.Ordinal) && IsRestoredFace(name)).ToList();
        Assert.True(results.Count == 2, $"expected two restored faces among the blobs:\n{string.Join('\n', stored)}");

        // ... and in the output folder sair wrote, with the report saying both faces were restored.
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        Assert.Equal(2, report.RootElement.GetProperty("restored").GetInt32());
        Assert.Equal(
            ["John_Salley-1_00.png", "John_Salley-2_00.png"],
            Directory.GetFiles(Path.Combine(output, "restored_faces")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // sair never made an image store of its own.
        Assert.False(Directory.Exists(Path.Combine(home, "images")), "sair created a local image folder");
    }

    [Fact]
    public async Task The_readme_local_multi_silo_cluster_restores_the_demo_album_for_sair_through_its_gateway()
    {
        var (coordinator, engine, demo) = ReadmeCluster();
        Assert.Equal(SiloMetadataKeys.CoordinatorRole, coordinator[Key(SairSiloOptions.Section, nameof(SairSiloOptions.Role))]);
        Assert.Equal(SiloMetadataKeys.EngineRole, engine[Key(SairSiloOptions.Section, nameof(SairSiloOptions.Role))]);
        Assert.Equal(["demo", "--cluster", "localhost:30000"], demo);

        // The block's fixed ports become free ones, consistently: the engine joins through the coordinator's silo port
        // and sair calls the coordinator's gateway. Both run in the block's folder, so they share its sair-data/.
        var ports = new Dictionary<string, string>();
        string Port(string fixedPort) => ports.TryGetValue(fixedPort, out var free) ? free : ports[fixedPort] = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var defaults = new SairSiloOptions();
        coordinator[Key(SairSiloOptions.Section, nameof(SairSiloOptions.SiloPort))] = Port(defaults.SiloPort.ToString(CultureInfo.InvariantCulture));
        coordinator[Key(SairSiloOptions.Section, nameof(SairSiloOptions.GatewayPort))] = Port(defaults.GatewayPort.ToString(CultureInfo.InvariantCulture));
        coordinator[Key(SairHealthOptions.Section, nameof(SairHealthOptions.Port))] = Port(new SairHealthOptions().Port.ToString(CultureInfo.InvariantCulture));
        foreach (var option in new[] { nameof(SairSiloOptions.SiloPort), nameof(SairSiloOptions.GatewayPort), nameof(SairSiloOptions.PrimarySiloPort) })
        {
            engine[Key(SairSiloOptions.Section, option)] = Port(engine[Key(SairSiloOptions.Section, option)]);
        }

        engine[Key(SairHealthOptions.Section, nameof(SairHealthOptions.Port))] = Port(engine[Key(SairHealthOptions.Section, nameof(SairHealthOptions.Port))]);
        var data = Path.Combine(_work, "sair-data");
        foreach (var silo in new[] { coordinator, engine })
        {
            silo[Key(SairStorageOptions.Section, nameof(SairStorageOptions.DataRoot))] = data;
            silo[Key(SairSiloOptions.Section, nameof(SairSiloOptions.ImageRoot))] = Path.Combine(data, "images");
            silo["Logging__LogLevel__Default"] = "Warning";
            OnThisMachine(silo);
        }

        await using var silos = await SilosAsync(coordinator, engine);
        var output = Path.Combine(_work, "demo");
        var home = Path.Combine(_work, "sair-home");
        await SairAsync(home, silos, ["demo", "--cluster", $"localhost:{Port(demo[2].Split(':')[1])}", "-o", output, "--iterations", "3"]);

        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var samples = Directory.GetFiles(Path.Combine(RepoPaths.Root, "samples", "album", "photos")).Length;
        Assert.Equal(samples, report.RootElement.GetProperty("restored").GetInt32());
        // The results are in the silos' image folder, and sair made no store of its own.
        Assert.Equal(samples, Directory.EnumerateFiles(Path.Combine(data, "images", "albums"), "*.png", SearchOption.AllDirectories)
            .Count(path => path.Contains($"{Path.DirectorySeparatorChar}results{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && IsRestoredFace(path)));
        Assert.False(Directory.Exists(Path.Combine(home, "images")), "sair created a local image folder");
    }

    /// <summary>A restored aligned face, not one of its companions (name.cropped_face.png, name.restored_img.png).</summary>
    private static bool IsRestoredFace(string path) => Path.GetFileName(path).Count(c => c == '.') == 1;

    /// <summary>
    /// README's "A local multi-silo cluster" block: the Sair__* assignments of each 'dotnet run' silo line (continued
    /// lines joined), and the arguments the block gives sair.
    /// </summary>
    private static (Dictionary<string, string> Coordinator, Dictionary<string, string> Engine, string[] Sair) ReadmeCluster()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var section = readme[readme.IndexOf("## A local multi-silo cluster", StringComparison.Ordinal)..];
        var block = section[(section.IndexOf("```bash\n", StringComparison.Ordinal) + 8)..];
        var lines = block[..block.IndexOf("```", StringComparison.Ordinal)].Replace("\\\n", " ", StringComparison.Ordinal).Split('\n');
        var silos = lines.Where(line => line.Contains("dotnet run --no-build", StringComparison.Ordinal))
            .Select(line => System.Text.RegularExpressions.Regex.Matches(line, @"(Sair__\w+)=(\S+)").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value))
            .ToList();
        Assert.Equal(2, silos.Count);
        var client = lines.Single(line => line.Contains("--project src/Sair.Client --", StringComparison.Ordinal));
        return (silos[0], silos[1], client[(client.IndexOf(" -- ", StringComparison.Ordinal) + 4)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// What a test machine changes in a silo's configuration: this checkout's face models (an image installs its own),
    /// the tiny fixture generator on the CPU on one libtorch thread, and short reconcile and load-report intervals so
    /// that the test does not wait on them.
    /// </summary>
    private static void OnThisMachine(Dictionary<string, string> silo)
    {
        silo[Key(SairEngineOptions.Section, nameof(SairEngineOptions.ModelsDirectory))] = Path.Combine(RepoPaths.Root, "models");
        if (silo.ContainsKey(Key(SairEngineOptions.Section, nameof(SairEngineOptions.GeneratorPath))))
        {
            silo[Key(SairEngineOptions.Section, nameof(SairEngineOptions.GeneratorPath))] = TinyEngine.GeneratorPath;
            silo[Key(SairEngineOptions.Section, nameof(SairEngineOptions.Device))] = "cpu";
            silo[Key(SairEngineOptions.Section, nameof(SairEngineOptions.ProjectionIterations))] = "5";
        }

        silo[Key(SairEngineOptions.Section, nameof(SairEngineOptions.Threads))] = "1";
        silo[Key(AlbumOptions.Section, nameof(AlbumOptions.ReconcileInterval))] = "00:00:01";
        silo[Key(EngineWorkerOptions.Section, nameof(EngineWorkerOptions.LoadReportInterval))] = "00:00:00.2";
        silo[Key(EnginePlacementOptions.Section, nameof(EnginePlacementOptions.LoadRefreshInterval))] = "00:00:00.2";
    }

    /// <summary>Starts the coordinator and the engine silo and waits until both are ready.</summary>
    private static async Task<Silos> SilosAsync(Dictionary<string, string> coordinator, Dictionary<string, string> engine)
    {
        var silos = new Silos(SiloProcess.Start(coordinator), SiloProcess.Start(engine));
        try
        {
            await silos.Coordinator.WaitReadyAsync(StartTimeout);
            await silos.Engine.WaitReadyAsync(StartTimeout);
            return silos;
        }
        catch
        {
            await silos.DisposeAsync();
            throw;
        }
    }

    private sealed record Silos(SiloProcess Coordinator, SiloProcess Engine) : IAsyncDisposable
    {
        public string Logs => $"--- coordinator ---\n{Coordinator.Log}\n--- engine ---\n{Engine.Log}";

        public async ValueTask DisposeAsync()
        {
            await Coordinator.DisposeAsync();
            await Engine.DisposeAsync();
        }
    }

    /// <summary>Runs the sair this build made as its own process; fails the test with both silos' logs unless it exits 0.</summary>
    private async Task<string> SairAsync(string home, Silos silos, string[] arguments)
    {
        var client = Path.Combine(Path.GetDirectoryName(SiloProcess.SiloAssembly)!.Replace(
            $"{Path.DirectorySeparatorChar}Sair.Silo{Path.DirectorySeparatorChar}", $"{Path.DirectorySeparatorChar}Sair.Client{Path.DirectorySeparatorChar}", StringComparison.Ordinal), "sair.dll");
        Assert.True(File.Exists(client), $"{client} is missing: build src/Sair.Client");
        var environment = new Dictionary<string, string> { ["SAIR_HOME"] = home, ["SAIR_CLUSTER"] = "", ["SAIR_CLUSTER_ID"] = "", ["NO_COLOR"] = "1" };
        await using var sair = ChildProcess.Start("dotnet", [client, .. arguments], _work, environment);
        var exit = await sair.WaitForExitAsync(CommandTimeout);
        log.WriteLine($"$ sair {string.Join(' ', arguments)}\n{sair.Log}");
        Assert.True(exit == 0, $"sair {string.Join(' ', arguments)} ended with {exit?.ToString(CultureInfo.InvariantCulture) ?? "no exit"}:\n{sair.Log}\n{silos.Logs}");
        return sair.Log;
    }
}
