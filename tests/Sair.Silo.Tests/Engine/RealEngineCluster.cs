using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;
using Sair.Grains;
using Sair.Grains.Albums;
using Sair.Grains.Engine;
using Sair.Grains.Hosting;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Grains.Storage;
using Sair.Silo.Engine;

namespace Sair.Silo.Tests.Engine;

/// <summary>
/// An in-process grid on the real engine: Silo_0 a coordinator, Silo_1 an engine silo, both wired by
/// <see cref="EngineHostingExtensions.AddSairEngine(IServiceCollection, EngineModels)"/> over the tiny generator's
/// models (shared, loaded once), with the file-system image store in a temporary folder.
/// </summary>
public sealed class RealEngineCluster : IAsyncLifetime
{
    private const string CoordinatorSilo = "Silo_0";

    private readonly string _imageRoot = Path.Combine(Path.GetTempPath(), $"sair-silo-tests-{Guid.NewGuid():N}");

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public IImageStore Images { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var models = TinyEngine.Models;
        Images = new FileSystemImageStore(_imageRoot);
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((options, silo) =>
        {
            var isEngine = options.SiloName != CoordinatorSilo;
            silo.AddSairGrid(isEngine ? SiloMetadataKeys.EngineRole : SiloMetadataKeys.CoordinatorRole, "cpu");
            foreach (var name in GridStorage.All)
            {
                silo.AddMemoryGrainStorage(name);
            }

            silo.UseInMemoryReminderService();
            var services = silo.Services;
            services.AddSingleton(Images);
            services.AddSairEngine(models);
            services.Configure<EngineWorkerOptions>(o =>
            {
                o.MaxConcurrentJobs = 1;
                o.LoadReportInterval = TimeSpan.FromMilliseconds(100);
                o.ProgressReportInterval = TimeSpan.FromMilliseconds(50);
            });
            services.Configure<EnginePlacementOptions>(o => o.LoadRefreshInterval = TimeSpan.FromMilliseconds(50));
            services.Configure<AlbumOptions>(o => o.ReconcileInterval = TimeSpan.FromMilliseconds(500));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await WaitForEngineMetadataAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        if (Directory.Exists(_imageRoot))
        {
            Directory.Delete(_imageRoot, recursive: true);
        }
    }

    /// <summary>Silo metadata reaches each silo's cache after it joins; placement on the engine silo needs it.</summary>
    private async Task WaitForEngineMetadataAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!Cluster.Silos.All(silo =>
               {
                   var cache = silo.ServiceProvider.GetRequiredService<ISiloMetadataCache>();
                   return Cluster.Silos.Any(other => cache.GetSiloMetadata(other.SiloAddress).Metadata
                       .GetValueOrDefault(SiloMetadataKeys.Role) == SiloMetadataKeys.EngineRole);
               }))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The engine silo's metadata did not reach every silo within 20 s.");
            }

            await Task.Delay(50);
        }
    }
}
