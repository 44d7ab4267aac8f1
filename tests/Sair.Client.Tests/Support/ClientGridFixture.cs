using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;
using Sair.Client.Grid;
using Sair.Grains;
using Sair.Grains.Albums;
using Sair.Grains.Engine;
using Sair.Grains.Hosting;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Grains.Training;

namespace Sair.Client.Tests.Support;

/// <summary>
/// An in-process grid for the client: a coordinator (Silo_0) and one engine silo with the image fakes and a fake trainer, sharing one
/// in-memory image store with the client. Commands reach it through <see cref="FixedGridConnector"/>.
/// </summary>
public sealed class ClientGridFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    public InMemoryImageStore Images { get; } = new();

    public KnownFaces Faces { get; } = new();

    /// <summary>The engine silo's trainer.</summary>
    public FakeTrainer Trainer { get; } = new(TimeSpan.FromMilliseconds(2));

    /// <summary>The group-photo composer of the engine silo.</summary>
    public ImagePhotoComposer Composer { get; } = new();

    /// <summary>The face analyzer of both silos.</summary>
    public ImageFaceAnalyzer Analyzer { get; private set; } = null!;

    public IGrainFactory Grains => _cluster!.Client;

    public IGridConnector Connector => new FixedGridConnector(_cluster!.Client);

    public async Task InitializeAsync()
    {
        Analyzer = new ImageFaceAnalyzer(Faces);
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((options, silo) =>
        {
            var isEngine = options.SiloName != "Silo_0";
            silo.AddSairGrid(isEngine ? SiloMetadataKeys.EngineRole : SiloMetadataKeys.CoordinatorRole, "cpu");
            foreach (var name in GridStorage.All)
            {
                silo.AddMemoryGrainStorage(name);
            }

            silo.UseInMemoryReminderService();
            silo.Services.AddSingleton<IImageStore>(Images);
            silo.Services.AddSingleton<IFaceAnalyzer>(Analyzer);
            if (isEngine)
            {
                silo.Services.AddSingleton<IRestorationEngine>(new ImageRestorationEngine(TimeSpan.FromMilliseconds(2)));
                silo.Services.AddSingleton<IPhotoComposer>(Composer);
                silo.Services.AddSingleton<ITrainingEngine>(Trainer);
            }

            silo.Services.Configure<EngineWorkerOptions>(o =>
            {
                o.MaxConcurrentJobs = 2;
                o.LoadReportInterval = TimeSpan.FromMilliseconds(100);
                o.ProgressReportInterval = TimeSpan.FromMilliseconds(20);
            });
            silo.Services.Configure<EnginePlacementOptions>(o => o.LoadRefreshInterval = TimeSpan.FromMilliseconds(50));
            silo.Services.Configure<AlbumOptions>(o => o.ReconcileInterval = TimeSpan.FromMilliseconds(200));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        await WaitForEngineMetadataAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>Placement needs every silo to know the engine silo's metadata, which spreads after it joins.</summary>
    private async Task WaitForEngineMetadataAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!_cluster!.Silos.All(silo =>
               {
                   var cache = silo.ServiceProvider.GetRequiredService<ISiloMetadataCache>();
                   return _cluster.Silos.Any(other => cache.GetSiloMetadata(other.SiloAddress).Metadata
                       .GetValueOrDefault(SiloMetadataKeys.Role) == SiloMetadataKeys.EngineRole);
               }))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The engine silo's metadata did not reach every silo within 15 s.");
            }

            await Task.Delay(50);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClientGridCollection : ICollectionFixture<ClientGridFixture>
{
    public const string Name = "client grid";
}
