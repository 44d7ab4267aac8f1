using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sair.Engine.Imaging;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Silo.Storage;
using Sair.Silo;
using Sair.Silo.Adapters;
using Sair.Silo.Hosting;
using SixLabors.ImageSharp.Processing;

namespace Sair.Bench;

/// <summary>
/// Album throughput of the grid as deployed on one machine: a coordinator and N engine silos, each its own OS process,
/// on the local storage provider (they share the state and image folders), restoring one album of P degraded johns
/// photos × I iterations with the tiny fixture generator, timed from submission to the last photo.
/// Scaling efficiency = throughput(N) / (N × throughput(1)). Every silo gets the same libtorch thread count
/// (Sair__Engine__Threads), so N engines on N cores each get one.
/// </summary>
internal static class AlbumBench
{
    private const string ClusterId = "album-bench";
    private const string TinyGenerator = "s64_sd32_m2_cm1_div16";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(30);

    internal sealed record Settings(int Photos, int Iterations, int Projection, int Threads, int InputSide, string Generator, TimeSpan Timeout, int Batch = 1);

    internal sealed record Measurement(int Engines, int Batch, double Seconds, int Completed, IReadOnlyList<double> PhotosPerEngine);

    public static int Run(BenchArgs args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(BenchArgs args)
    {
        var engineCounts = args.Ints("engines", 1, 2);
        // --batches: each engine silo runs B jobs at once and optimises them in batched passes (Sair:Engine:BatchSize).
        var batches = args.Ints("batches", 1);
        var settings = SettingsFrom(args);

        var measurements = new List<Measurement>();
        foreach (var batch in batches)
        {
            foreach (var engines in engineCounts)
            {
                Console.Error.WriteLine(
                    $"album bench: coordinator + {engines} engine silo process(es), batches of {batch}, {settings.Photos} photos × {settings.Iterations} iterations");
                measurements.Add(await MeasureAsync(engines, settings with { Batch = batch }));
            }
        }

        Print(settings, measurements);
        return measurements.All(m => m.Completed == settings.Photos) ? 0 : 1;
    }

    /// <summary>The album, its generator and the silos' threads from the command line (--photos, --iterations, ...).</summary>
    internal static Settings SettingsFrom(BenchArgs args)
    {
        var settings = new Settings(
            Photos: args.Int("photos", 12),
            Iterations: args.Int("iterations", 20),
            Projection: args.Int("projection", 10),
            Threads: args.Int("threads", 1),
            InputSide: args.Int("input", 16),
            Generator: args.String("generator", RepoPaths.SharedFile("fixtures", "stylegan2", TinyGenerator, TinyGenerator + ".pt")),
            Timeout: TimeSpan.FromMinutes(args.Int("timeout-min", 30)));
        if (settings.Generator != EmbeddedDefaults.GeneratorSetting && !File.Exists(settings.Generator))
        {
            throw new FileNotFoundException($"The generator {settings.Generator} is missing: pass --generator <.pt> or put the shared fixtures beside the repository.");
        }
        return settings;
    }

    internal static async Task<Measurement> MeasureAsync(int engineCount, Settings settings)
    {
        var data = Directory.CreateTempSubdirectory("sair-album-bench-").FullName;
        var serviceId = $"album-bench-{Guid.NewGuid():N}";
        var coordinator = SiloConfig.Create(serviceId, data, settings, SiloMetadataKeys.CoordinatorRole, primarySiloPort: null);
        var engineConfigs = Enumerable.Range(0, engineCount)
            .Select(_ => SiloConfig.Create(serviceId, data, settings, SiloMetadataKeys.EngineRole, coordinator.SiloPort))
            .ToList();
        var silos = new List<SiloProcess> { SiloProcess.Start(coordinator.Variables, "coordinator") };
        silos.AddRange(engineConfigs.Select((c, i) => SiloProcess.Start(c.Variables, $"engine {i + 1}")));
        var engines = silos.Skip(1).ToList();
        try
        {
            foreach (var silo in silos)
            {
                await silo.WaitReadyAsync(StartTimeout);
            }

            var (reference, photos) = await WriteAlbumAsync(new FileSystemImageStore(Path.Combine(data, "images")), settings);
            var client = await ConnectAsync(coordinator.GatewayPort, serviceId);
            try
            {
                var grains = client.Services.GetRequiredService<IClusterClient>();
                // One short photo per engine first, so that every engine has compiled and run its nets before the clock starts.
                await RestoreAsync(grains, "warm-up", [.. photos.Take(engineCount)], reference, 2, settings.Timeout);
                var before = await CompletedPerEngineAsync(engines);
                var clock = Stopwatch.StartNew();
                var progress = await RestoreAsync(grains, "album", photos, reference, settings.Iterations, settings.Timeout);
                var seconds = clock.Elapsed.TotalSeconds;
                var after = await CompletedPerEngineAsync(engines);
                if (progress.Completed != settings.Photos)
                {
                    var failures = (await grains.GetGrain<IAlbumGrain>("album").ListResultsAsync()).Where(r => r.State != JobState.Completed);
                    Console.Error.WriteLine($"album bench: {progress}; {string.Join("; ", failures.Select(f => $"photo {f.Index}: {f.State} {f.Error}"))}");
                }

                return new Measurement(engineCount, settings.Batch, seconds, progress.Completed, [.. after.Zip(before, (a, b) => a - b)]);
            }
            finally
            {
                await client.StopAsync();
                client.Dispose();
            }
        }
        catch
        {
            foreach (var silo in silos)
            {
                Console.Error.WriteLine($"--- {silo.Name} ---\n{silo.Log}");
            }

            throw;
        }
        finally
        {
            await Task.WhenAll(silos.Select(s => s.StopAsync(StopPatience)));
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }

            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>
    /// The album's photos: johns chips (cycled) reduced to the input side, the degradation the engine restores; and one
    /// reference, a chip of the first person at full size, which every job projects into W+ first.
    /// </summary>
    private static async Task<(string Reference, ImmutableArray<string> Photos)> WriteAlbumAsync(IImageStore images, Settings settings)
    {
        var chips = Directory.GetFiles(RepoPaths.SharedFile("fixtures", "faces", "johns"), "*.jpg", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .ToArray();
        const string reference = "bench/reference.png";
        using (var chip = ImageFiles.Load(chips[0]))
        {
            await images.PutAsync(reference, ImageFiles.Encode(chip, "png"), CancellationToken.None);
        }

        var photos = ImmutableArray.CreateBuilder<string>();
        for (var i = 0; i < settings.Photos; i++)
        {
            using var chip = ImageFiles.Load(chips[(i + 1) % chips.Length]);
            chip.Mutate(p => p.Resize(settings.InputSide, settings.InputSide, KnownResamplers.Bicubic));
            var path = $"bench/input-{i:D3}.png";
            await images.PutAsync(path, ImageFiles.Encode(chip, "png"), CancellationToken.None);
            photos.Add(path);
        }

        return (reference, photos.ToImmutable());
    }

    private static async Task<AlbumProgress> RestoreAsync(
        IClusterClient grains, string albumId, ImmutableArray<string> photos, string reference, int iterations, TimeSpan timeout)
    {
        var album = grains.GetGrain<IAlbumGrain>(albumId);
        var options = new RestorationOptions("paper", iterations, Emotion: null, EmotionStrength: 0, Seed: 1, CheckpointEvery: 10);
        var progress = await album.SubmitAsync(new AlbumSpec(photos, ReferenceSelection.FromPaths(reference), options, $"results/{albumId}",
            FaceFraming.DlibChip));
        var deadline = DateTime.UtcNow + timeout;
        while (!progress.IsFinished)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Album '{albumId}' did not finish within {timeout} ({progress}): raise --timeout-min or lower --photos.");
            }

            await Task.Delay(100);
            progress = await album.GetProgressAsync();
        }

        return progress;
    }

    /// <summary>Jobs each engine completed so far, from its Prometheus counter: shows how placement spread the album.</summary>
    private static async Task<double[]> CompletedPerEngineAsync(IEnumerable<SiloProcess> engines) =>
        await Task.WhenAll(engines.Select(async engine => (await engine.ScrapeAsync())
            .Split('\n')
            .Where(line => line.StartsWith("sair_jobs_completed_total", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture))));

    private static async Task<IHost> ConnectAsync(int gatewayPort, string serviceId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client.UseLocalhostClustering(gatewayPort, serviceId, ClusterId));
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return host;
    }

    private static void Print(Settings settings, List<Measurement> measurements)
    {
        var single = measurements.FirstOrDefault(m => m.Engines == 1 && m.Batch == 1);
        Console.WriteLine(
            $"# album throughput: coordinator + N engine silo processes on the local storage provider, {Environment.ProcessorCount} cores; " +
            $"generator {Path.GetFileName(settings.Generator)}, preset paper, {settings.Photos} photos of {settings.InputSide} px × {settings.Iterations} iterations " +
            $"(each after a {settings.Projection}-step reference projection), MaxConcurrentJobs = BatchSize = B, " +
            $"Sair__Engine__Threads={settings.Threads} in every silo process; timed from submission to the last photo, after a warm-up photo per engine");
        Console.WriteLine();
        Console.WriteLine("| engine silos | B | libtorch threads per silo | photos completed | wall s | photos / min | photos per engine | × 1 silo at B = 1 | scaling efficiency |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var m in measurements)
        {
            var throughput = m.Completed / (m.Seconds / 60);
            var sameBatch = measurements.FirstOrDefault(s => s.Engines == 1 && s.Batch == m.Batch);
            var efficiency = sameBatch is null ? "—" : (throughput / (m.Engines * (sameBatch.Completed / (sameBatch.Seconds / 60)))).ToString("0.00", CultureInfo.InvariantCulture);
            var ratio = single is null ? "—" : (throughput / (single.Completed / (single.Seconds / 60))).ToString("0.00", CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {m.Engines} | {m.Batch} | {settings.Threads} | {m.Completed}/{settings.Photos} | {m.Seconds:0.0} | {throughput:0.00} | {string.Join(" / ", m.PhotosPerEngine)} | {ratio} | {efficiency} |"));
        }
    }

    /// <summary>One silo's environment (named from the options types, so a renamed option breaks the bench) and its ports.</summary>
    private sealed class SiloConfig
    {
        public int SiloPort { get; } = FreePort.Next();

        public int GatewayPort { get; } = FreePort.Next();

        public int HealthPort { get; } = FreePort.Next();

        public Dictionary<string, string> Variables { get; } = new(StringComparer.Ordinal);

        public static SiloConfig Create(string serviceId, string data, Settings settings, string role, int? primarySiloPort)
        {
            var config = new SiloConfig();
            config.Set(SairSiloOptions.Section, nameof(SairSiloOptions.Role), role)
                .Set(SairSiloOptions.Section, nameof(SairSiloOptions.ServiceId), serviceId)
                .Set(SairSiloOptions.Section, nameof(SairSiloOptions.ClusterId), ClusterId)
                .Set(SairSiloOptions.Section, nameof(SairSiloOptions.SiloPort), config.SiloPort.ToString(CultureInfo.InvariantCulture))
                .Set(SairSiloOptions.Section, nameof(SairSiloOptions.GatewayPort), config.GatewayPort.ToString(CultureInfo.InvariantCulture))
                .Set(SairSiloOptions.Section, nameof(SairSiloOptions.ImageRoot), Path.Combine(data, "images"))
                .Set(SairHealthOptions.Section, nameof(SairHealthOptions.Port), config.HealthPort.ToString(CultureInfo.InvariantCulture))
                .Set(SairStorageOptions.Section, nameof(SairStorageOptions.Provider), SairStorageOptions.LocalProvider)
                .Set(SairStorageOptions.Section, nameof(SairStorageOptions.DataRoot), data)
                .Set(SairEngineOptions.Section, nameof(SairEngineOptions.ModelsDirectory), Path.Combine(RepoPaths.Root, "models"))
                .Set(SairEngineOptions.Section, nameof(SairEngineOptions.Device), "cpu")
                .Set(SairEngineOptions.Section, nameof(SairEngineOptions.Threads), settings.Threads.ToString(CultureInfo.InvariantCulture))
                .Set(SairEngineOptions.Section, nameof(SairEngineOptions.MaxConcurrentJobs), settings.Batch.ToString(CultureInfo.InvariantCulture))
                .Set(SairEngineOptions.Section, nameof(SairEngineOptions.BatchSize), settings.Batch.ToString(CultureInfo.InvariantCulture))
                .Set(EngineWorkerOptions.Section, nameof(EngineWorkerOptions.LoadReportInterval), "00:00:00.2")
                .Set(EnginePlacementOptions.Section, nameof(EnginePlacementOptions.LoadRefreshInterval), "00:00:00.2")
                .Set(AlbumOptions.Section, nameof(AlbumOptions.ReconcileInterval), "00:00:01");
            config.Variables["Logging__LogLevel__Default"] = "Warning";
            if (primarySiloPort is { } port)
            {
                config.Set(SairSiloOptions.Section, nameof(SairSiloOptions.PrimarySiloPort), port.ToString(CultureInfo.InvariantCulture));
            }

            if (role == SiloMetadataKeys.EngineRole)
            {
                config.Set(SairEngineOptions.Section, nameof(SairEngineOptions.GeneratorPath), settings.Generator)
                    .Set(SairEngineOptions.Section, nameof(SairEngineOptions.ProjectionIterations), settings.Projection.ToString(CultureInfo.InvariantCulture));
            }

            return config;
        }

        private SiloConfig Set(string section, string property, string value)
        {
            Variables[SiloProcess.Key(section, property)] = value;
            return this;
        }
    }
}
