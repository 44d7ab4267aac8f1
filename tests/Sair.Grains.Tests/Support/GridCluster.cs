using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Serialization;
using Orleans.TestingHost;
using Sair.Grains.Albums;
using Sair.Grains.Engine;
using Sair.Grains.Hosting;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Grains.Training;

namespace Sair.Grains.Tests.Support;

/// <summary>
/// An in-process cluster: Silo_0 is a coordinator (no engine), the others are engine silos with a fake engine and trainer.
/// Timers and intervals are shortened so that the grid's background loops turn within milliseconds.
/// </summary>
public sealed class GridCluster : IAsyncDisposable
{
    public const string CoordinatorSilo = "Silo_0";

    private GridCluster(InProcessTestCluster cluster, InMemoryImageStore images, EngineRecorder recorder, FakeFaceAnalyzer analyzer,
        TrainingRecorder training)
    {
        Training = training;
        Cluster = cluster;
        Images = images;
        Recorder = recorder;
        Analyzer = analyzer;
    }

    public InProcessTestCluster Cluster { get; }

    public InMemoryImageStore Images { get; }

    public EngineRecorder Recorder { get; }

    /// <summary>The training runs of every engine silo's fake trainer.</summary>
    public TrainingRecorder Training { get; }

    /// <summary>The album photo limit every test grid is configured with (Sair:Limits:MaxAlbumPhotos).</summary>
    public const int ConfiguredMaxAlbumPhotos = 40;

    /// <summary>The face analyzer every silo shares.</summary>
    public FakeFaceAnalyzer Analyzer { get; }

    public IClusterClient Client => Cluster.Client;

    /// <param name="silos">Silos in all: Silo_0 is the coordinator, the rest are engines.</param>
    /// <param name="iterationTime">How long one fake optimisation step takes.</param>
    /// <param name="slots">Engine slots per silo name; 2 everywhere when not given.</param>
    public static async Task<GridCluster> StartAsync(int silos, TimeSpan iterationTime, Func<string, int>? slots = null)
    {
        var images = new InMemoryImageStore();
        var recorder = new EngineRecorder();
        var training = new TrainingRecorder();
        var analyzer = new FakeFaceAnalyzer();
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
            services.AddSingleton<IImageStore>(images);
            services.AddSingleton<IFaceAnalyzer>(analyzer);
            if (isEngine)
            {
                services.AddSingleton<IRestorationEngine>(new FakeRestorationEngine(options.SiloName, recorder, iterationTime));
                services.AddSingleton<IPhotoComposer>(new FakePhotoComposer());
                services.AddSingleton<ITrainingEngine>(new FakeTrainingEngine(options.SiloName, training, iterationTime));
            }

            services.Configure<EngineWorkerOptions>(o =>
            {
                o.MaxConcurrentJobs = slots?.Invoke(options.SiloName) ?? 2;
                o.LoadReportInterval = TimeSpan.FromMilliseconds(100);
                o.ProgressReportInterval = TimeSpan.FromMilliseconds(20);
                o.JobWatchdogInterval = TimeSpan.FromSeconds(1);
                o.JobReminderPeriod = TimeSpan.FromSeconds(1);
            });
            services.Configure<EnginePlacementOptions>(o => o.LoadRefreshInterval = TimeSpan.FromMilliseconds(50));
            services.Configure<AlbumOptions>(o => o.ReconcileInterval = TimeSpan.FromMilliseconds(200));
            // Configured below the defaults, so that tests see the configured limit enforced, not a constant.
            services.Configure<GridLimits>(o => o.MaxAlbumPhotos = ConfiguredMaxAlbumPhotos);
        });

        builder.ConfigureClient(client => client.AddActivityPropagation());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var grid = new GridCluster(cluster, images, recorder, analyzer, training);
        await grid.WaitForEngineMetadataAsync(silos - 1);
        await grid.WaitForEngineLoadsAsync(silos - 1);
        return grid;
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
