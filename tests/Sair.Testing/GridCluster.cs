using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Serialization;
using Orleans.TestingHost;
using Sair.Grains;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Hosting;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Grains.Training;

namespace Sair.Testing;

/// <summary>
/// The engine ports every silo of a <see cref="GridCluster"/> gets: one image store and face analyzer for all, and per
/// engine silo (by name) a restoration engine, a photo composer and a trainer. A null port is left to the cluster's
/// configure hook (the real engine registers its own).
/// </summary>
public sealed record GridPorts(
    IImageStore Images,
    IFaceAnalyzer? Analyzer,
    Func<string, IRestorationEngine>? Engine,
    Func<string, IPhotoComposer>? Composer,
    Func<string, ITrainingEngine>? Trainer);

/// <summary>
/// An in-process cluster, the one every grid test runs on: Silo_0 is a coordinator (no engine), the others are engine
/// silos with the given fakes of the engine ports (<see cref="StartAsync(int, TimeSpan, Func{string, int}?, Action{string, ISiloBuilder}?)"/>: the
/// text-photo fakes). Grain state and reminders live in tables all silos share, so a silo's death loses nothing;
/// timers and intervals are shortened so that the grid's background loops turn within milliseconds.
/// </summary>
public sealed class GridCluster : IAsyncDisposable
{
    public const string CoordinatorSilo = "Silo_0";

    /// <summary>The album photo limit every test grid is configured with (Sair:Limits:MaxAlbumPhotos).</summary>
    public const int ConfiguredMaxAlbumPhotos = 40;

    /// <summary>The most upscale a job may ask for on this grid (below the engine's 8).</summary>
    public const double ConfiguredMaxUpscale = 4;

    /// <summary>The attempts a job may take on this grid before a run the grid keeps cutting short fails it.</summary>
    public const int ConfiguredMaxAttempts = 5;

    private GridCluster(InProcessTestCluster cluster, GridPorts ports, EngineRecorder recorder, TrainingRecorder training)
    {
        Cluster = cluster;
        Ports = ports;
        Recorder = recorder;
        Training = training;
    }

    public InProcessTestCluster Cluster { get; }

    /// <summary>The ports the silos were given.</summary>
    public GridPorts Ports { get; }

    /// <summary>The in-memory image store every silo shares (the fakes' grids).</summary>
    public InMemoryImageStore Images => Ports.Images as InMemoryImageStore
        ?? throw new InvalidOperationException("this grid runs another image store: read it from Ports.Images.");

    /// <summary>The runs of every engine silo's <see cref="FakeRestorationEngine"/> (empty with other engines).</summary>
    public EngineRecorder Recorder { get; }

    /// <summary>The training runs of every engine silo's <see cref="FakeTrainingEngine"/> (empty with other trainers).</summary>
    public TrainingRecorder Training { get; }

    /// <summary>The face analyzer every silo shares, when it is the text-photo fake.</summary>
    public FakeFaceAnalyzer Analyzer => Ports.Analyzer as FakeFaceAnalyzer
        ?? throw new InvalidOperationException("this grid runs another face analyzer: read it from Ports.Analyzer.");

    public IClusterClient Client => Cluster.Client;

    /// <summary>A grid on the text-photo fakes (<see cref="FakeFaceAnalyzer"/>, <see cref="FakeRestorationEngine"/>, <see cref="FakeTrainingEngine"/>).</summary>
    /// <param name="silos">Silos in all: Silo_0 is the coordinator, the rest are engines.</param>
    /// <param name="iterationTime">How long one fake optimisation step takes.</param>
    /// <param name="slots">Engine slots per silo name; 2 everywhere when not given.</param>
    /// <param name="configure">Runs last on every silo, given its name (to override a setting).</param>
    public static Task<GridCluster> StartAsync(int silos, TimeSpan iterationTime, Func<string, int>? slots = null,
        Action<string, ISiloBuilder>? configure = null)
    {
        var recorder = new EngineRecorder();
        var training = new TrainingRecorder();
        var ports = new GridPorts(new InMemoryImageStore(), new FakeFaceAnalyzer(),
            silo => new FakeRestorationEngine(silo, recorder, iterationTime), _ => new FakePhotoComposer(),
            silo => new FakeTrainingEngine(silo, training, iterationTime));
        return StartAsync(silos, ports, slots, recorder, training, configure);
    }

    /// <summary>
    /// A grid on the given ports; <paramref name="configure"/> runs last on every silo, given its name (to register
    /// ports left null, or override a setting).
    /// </summary>
    public static Task<GridCluster> StartAsync(int silos, GridPorts ports, Func<string, int>? slots = null, Action<string, ISiloBuilder>? configure = null) =>
        StartAsync(silos, ports, slots, new EngineRecorder(), new TrainingRecorder(), configure);

    private static async Task<GridCluster> StartAsync(int silos, GridPorts ports, Func<string, int>? slots, EngineRecorder recorder,
        TrainingRecorder training, Action<string, ISiloBuilder>? configure = null)
    {
        var states = new ConcurrentDictionary<string, (byte[] State, string ETag)>(StringComparer.Ordinal);
        var reminders = new SharedReminderTable();
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((options, silo) =>
        {
            var isEngine = options.SiloName != CoordinatorSilo;
            silo.AddSairGrid(isEngine ? SiloMetadataKeys.EngineRole : SiloMetadataKeys.CoordinatorRole, isEngine ? "gpu" : "cpu");
            silo.AddActivityPropagation();
            var services = silo.Services;
            foreach (var name in GridStorage.All)
            {
                services.AddGrainStorage(name, (sp, _) => new SharedGrainStorage(states, sp.GetRequiredService<Serializer>()));
            }

            silo.AddReminders();
            services.AddSingleton<IReminderTable>(reminders);
            services.Configure<ReminderOptions>(o =>
            {
                o.MinimumReminderPeriod = TimeSpan.FromMilliseconds(500);
                o.RefreshReminderListPeriod = TimeSpan.FromSeconds(1);
            });
            services.AddSingleton(ports.Images);
            if (ports.Analyzer is { } analyzer)
            {
                services.AddSingleton(analyzer);
            }

            if (isEngine)
            {
                Register(services, ports.Engine, options.SiloName);
                Register(services, ports.Composer, options.SiloName);
                Register(services, ports.Trainer, options.SiloName);
            }

            services.Configure<EngineWorkerOptions>(o =>
            {
                o.MaxConcurrentJobs = slots?.Invoke(options.SiloName) ?? 2;
                o.LoadReportInterval = TimeSpan.FromMilliseconds(100);
                o.ProgressReportInterval = TimeSpan.FromMilliseconds(20);
                o.JobWatchdogInterval = TimeSpan.FromSeconds(1);
                o.JobReminderPeriod = TimeSpan.FromSeconds(1);
                o.RetryBackoff = TimeSpan.FromMilliseconds(50);
                o.RetryBackoffMax = TimeSpan.FromMilliseconds(200);
                o.MaxAttempts = ConfiguredMaxAttempts;
            });
            services.Configure<EnginePlacementOptions>(o => o.LoadRefreshInterval = TimeSpan.FromMilliseconds(50));
            services.Configure<AlbumOptions>(o => o.ReconcileInterval = TimeSpan.FromMilliseconds(200));
            // Configured below the defaults, so that tests see the configured limit enforced, not a constant.
            services.Configure<GridLimits>(o =>
            {
                o.MaxAlbumPhotos = ConfiguredMaxAlbumPhotos;
                o.MaxUpscale = ConfiguredMaxUpscale;
            });
            configure?.Invoke(options.SiloName, silo);
        });

        builder.ConfigureClient(client => client.AddActivityPropagation());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var grid = new GridCluster(cluster, ports, recorder, training);
        await grid.WaitForEngineMetadataAsync(silos - 1);
        await grid.WaitForEngineLoadsAsync(silos - 1);
        return grid;
    }

    private static void Register<TPort>(IServiceCollection services, Func<string, TPort>? port, string silo)
        where TPort : class
    {
        if (port is not null)
        {
            services.AddSingleton(port(silo));
        }
    }

    public InProcessSiloHandle Silo(string name) => Cluster.Silos.Single(s => s.Name == name);

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>Silo metadata reaches each silo's cache asynchronously after it joins; placement needs it.</summary>
    private async Task WaitForEngineMetadataAsync(int engines)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var ready = Cluster.Silos.All(silo =>
            {
                var cache = silo.ServiceProvider.GetRequiredService<ISiloMetadataCache>();
                return Cluster.Silos.Count(other => cache.GetSiloMetadata(other.SiloAddress).Metadata
                    .GetValueOrDefault(SiloMetadataKeys.Role) == SiloMetadataKeys.EngineRole) == engines;
            });
            if (ready)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Silo metadata did not show {engines} engine silos everywhere within 15 s.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Each silo's placement reads engine loads (slots) from its own copy of the load board, filled a little after
    /// the engines report; until then an engine counts as one slot. Tests of placement start once every silo knows
    /// every engine's capacity (on a loaded machine that took longer than the first burst of placements).
    /// </summary>
    private async Task WaitForEngineLoadsAsync(int engines)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!Cluster.Silos.All(silo => silo.ServiceProvider.GetRequiredService<EngineLoadCache>().Loads.Count == engines))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The engine load board did not show {engines} engine silos on every silo within 15 s.");
            }

            await Task.Delay(50);
        }
    }
}
