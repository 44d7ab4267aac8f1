using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Sair.Grains;
using Sair.Grains.Albums;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Grains.Security;
using Sair.Grains.Tenancy;
using Sair.Silo.Adapters;
using Sair.Silo.Hosting;
using Sair.Silo.Tests.Adapters;
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

    [Fact]
    public async Task Two_tenants_share_a_TLS_cluster_through_sair_and_neither_reaches_the_others_work()
    {
        // The README cluster with the two settings a shared grid adds: a tenant signing key and TLS from the grid's CA.
        var (coordinator, engine, _) = ReadmeCluster();
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var tls = GridCertificates.Write(Directory.CreateDirectory(Path.Combine(_work, "tls")).FullName);
        var data = Path.Combine(_work, "sair-data");
        var gateway = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var coordinatorSiloPort = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        coordinator[Key(SairSiloOptions.Section, nameof(SairSiloOptions.SiloPort))] = coordinatorSiloPort;
        coordinator[Key(SairSiloOptions.Section, nameof(SairSiloOptions.GatewayPort))] = gateway;
        engine[Key(SairSiloOptions.Section, nameof(SairSiloOptions.SiloPort))] = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        engine[Key(SairSiloOptions.Section, nameof(SairSiloOptions.GatewayPort))] = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        engine[Key(SairSiloOptions.Section, nameof(SairSiloOptions.PrimarySiloPort))] = coordinatorSiloPort;
        foreach (var silo in new[] { coordinator, engine })
        {
            silo[Key(SairHealthOptions.Section, nameof(SairHealthOptions.Port))] = FreePort.Next().ToString(CultureInfo.InvariantCulture);
            silo[Key(SairStorageOptions.Section, nameof(SairStorageOptions.DataRoot))] = data;
            silo[Key(SairSiloOptions.Section, nameof(SairSiloOptions.ImageRoot))] = Path.Combine(data, "images");
            silo[SettingKeys.EnvironmentVariable(SettingKeys.TenancySigningKey)] = key;
            silo[SettingKeys.EnvironmentVariable(SettingKeys.TlsCertificatePath)] = tls.Certificate;
            silo[SettingKeys.EnvironmentVariable(SettingKeys.TlsKeyPath)] = tls.Key;
            silo[SettingKeys.EnvironmentVariable(SettingKeys.TlsCaPath)] = tls.Ca;
            silo["Logging__LogLevel__Default"] = "Warning";
            OnThisMachine(silo);
        }

        // Tokens as the operator issues them.
        var alice = await TenantTokenAsync(key, "alice");
        var bob = await TenantTokenAsync(key, "bob");
        await using var silos = await SilosAsync(coordinator, engine);
        string[] grid = ["--cluster", $"127.0.0.1:{gateway}"];
        var asAlice = new Dictionary<string, string> { [TenantContext.TokenVariable] = alice, [GridTls.CaVariable] = tls.Ca };
        var asBob = new Dictionary<string, string> { [TenantContext.TokenVariable] = bob, [GridTls.CaVariable] = tls.Ca };
        var home = Path.Combine(_work, "sair-home");
        var photos = Directory.CreateDirectory(Path.Combine(_work, "photos")).FullName;
        File.Copy(Path.Combine(RepoPaths.Root, "samples", "album", "photos", "John_Salley-1.jpg"), Path.Combine(photos, "John_Salley-1.jpg"));

        // Alice enrols, submits, watches and fetches her album, all over TLS.
        await SairAsync(home, silos, ["pool", "enroll", "family", "John Salley",
            Path.Combine(RepoPaths.Root, "samples", "album", "references", "John_Salley.jpg"), .. grid], asAlice);
        await SairAsync(home, silos, ["album", "submit", "-i", photos, "--aligned", "--pool", "family", "--person", "John Salley",
            "--album-id", "alice-1962", "--iterations", "2", .. grid], asAlice);
        var watched = await SairAsync(home, silos, ["album", "watch", "alice-1962", "-o", Path.Combine(_work, "alice"), .. grid], asAlice);
        Assert.Contains("1 of 1 restored", watched, StringComparison.Ordinal);

        // Bob, with a valid token of his own, reaches none of it; no token, or no TLS, reaches nothing at all.
        var refusals = new (string[] Arguments, IReadOnlyDictionary<string, string> Environment, string Says)[]
        {
            (["pool", "list", "family", .. grid], asBob, "belongs to another tenant"),
            (["pool", "remove", "family", "John Salley", .. grid], asBob, "belongs to another tenant"),
            (["album", "results", "alice-1962", "-o", Path.Combine(_work, "bob"), .. grid], asBob, "another tenant"),
            (["pool", "list", "family", .. grid], new Dictionary<string, string> { [GridTls.CaVariable] = tls.Ca }, "carries no tenant token"),
        };
        foreach (var (arguments, environment, says) in refusals)
        {
            var (exit, output) = await SairExitAsync(Path.Combine(_work, "bob-home"), arguments, environment);
            // Exit 2 is sair's "failed"; the console wraps long messages.
            var said = System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " ");
            Assert.True(exit == 2 && said.Contains(says, StringComparison.Ordinal), $"sair {string.Join(' ', arguments)}: exit {exit}\n{output}");
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }

        var (plainExit, plain) = await SairExitAsync(home, ["pool", "list", "family", .. grid], new Dictionary<string, string> { [TenantContext.TokenVariable] = alice });
        Assert.True(plainExit == 2, $"a client without TLS was served:\n{plain}");
        Assert.False(Directory.Exists(Path.Combine(_work, "bob")) && Directory.EnumerateFiles(Path.Combine(_work, "bob"), "*.png", SearchOption.AllDirectories).Any(),
            "bob received alice's images");
        var listed = await SairAsync(home, silos, ["pool", "list", "family", .. grid], asAlice);
        Assert.Contains("John Salley", listed, StringComparison.Ordinal);
    }

    /// <summary>A token from <c>Sair.Silo tenant-token</c>, the operator's tool, given the grid's key as the silos get it.</summary>
    private async Task<string> TenantTokenAsync(string key, string tenant)
    {
        var environment = new Dictionary<string, string> { [SettingKeys.EnvironmentVariable(SettingKeys.TenancySigningKey)] = key };
        await using var tool = ChildProcess.Start("dotnet", [SiloProcess.SiloAssembly, "tenant-token", "--tenant", tenant, "--days", "1"], _work, environment);
        Assert.Equal(0, await tool.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        var token = tool.Log.Split('\n').Select(line => line.Trim()).Single(line => line.StartsWith(TenantToken.Version + ".", StringComparison.Ordinal));
        Assert.True(TenantToken.TryVerify(token, Convert.FromBase64String(key), DateTimeOffset.UtcNow, out var named, out _) && named == tenant, tool.Log);
        return token;
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
    private async Task<string> SairAsync(string home, Silos silos, string[] arguments, IReadOnlyDictionary<string, string>? extra = null)
    {
        var (exit, output) = await SairExitAsync(home, arguments, extra);
        Assert.True(exit == 0, $"sair {string.Join(' ', arguments)} ended with {exit?.ToString(CultureInfo.InvariantCulture) ?? "no exit"}:\n{output}\n{silos.Logs}");
        return output;
    }

    /// <summary>Runs the sair this build made as its own process, with <paramref name="extra"/> in its environment; its exit code and output.</summary>
    private async Task<(int? Exit, string Output)> SairExitAsync(string home, string[] arguments, IReadOnlyDictionary<string, string>? extra = null)
    {
        var client = Path.Combine(Path.GetDirectoryName(SiloProcess.SiloAssembly)!.Replace(
            $"{Path.DirectorySeparatorChar}Sair.Silo{Path.DirectorySeparatorChar}", $"{Path.DirectorySeparatorChar}Sair.Client{Path.DirectorySeparatorChar}", StringComparison.Ordinal), "sair.dll");
        Assert.True(File.Exists(client), $"{client} is missing: build src/Sair.Client");
        var environment = new Dictionary<string, string>
        {
            ["SAIR_HOME"] = home, ["SAIR_CLUSTER"] = "", ["SAIR_CLUSTER_ID"] = "", ["NO_COLOR"] = "1",
            [TenantContext.TokenVariable] = "", [GridTls.CaVariable] = "",
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        await using var sair = ChildProcess.Start("dotnet", [client, .. arguments], _work, environment);
        var exit = await sair.WaitForExitAsync(CommandTimeout);
        log.WriteLine($"$ sair {string.Join(' ', arguments)}\n{sair.Log}");
        return (exit, sair.Log);
    }
}
