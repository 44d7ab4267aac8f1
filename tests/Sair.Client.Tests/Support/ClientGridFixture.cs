using Microsoft.Extensions.DependencyInjection;
using Sair.Client.Grid;
using Sair.Grains;
using Sair.Grains.Jobs;

namespace Sair.Client.Tests.Support;

/// <summary>
/// An in-process grid for the client: the shared <see cref="GridCluster"/> (a coordinator, Silo_0, and one engine
/// silo) on the image fakes and a fake trainer, sharing one in-memory image store with the client, with the
/// production limits and job intervals (the client's albums run up to 1000 photos). Commands reach it through
/// <see cref="FixedGridConnector"/>.
/// </summary>
public sealed class ClientGridFixture : IAsyncLifetime
{
    private GridCluster? _grid;

    public ClientGridFixture() => Analyzer = new ImageFaceAnalyzer(Faces);

    public InMemoryImageStore Images { get; } = new();

    public KnownFaces Faces { get; } = new();

    /// <summary>The engine silo's trainer.</summary>
    public FakeTrainer Trainer { get; } = new(TimeSpan.FromMilliseconds(2));

    /// <summary>The group-photo composer of the engine silo.</summary>
    public ImagePhotoComposer Composer { get; } = new();

    /// <summary>The face analyzer of both silos.</summary>
    public ImageFaceAnalyzer Analyzer { get; }

    public IGrainFactory Grains => _grid!.Client;

    public IGridConnector Connector => new FixedGridConnector(_grid!.Client);

    public async Task InitializeAsync()
    {
        var engine = new ImageRestorationEngine(TimeSpan.FromMilliseconds(2));
        var ports = new GridPorts(Images, Analyzer, _ => engine, _ => Composer, _ => Trainer);
        var production = new EngineWorkerOptions();
        _grid = await GridCluster.StartAsync(2, ports, configure: (_, silo) =>
        {
            silo.Services.Configure<GridLimits>(o => o.MaxAlbumPhotos = new GridLimits().MaxAlbumPhotos);
            silo.Services.Configure<EngineWorkerOptions>(o =>
            {
                o.JobWatchdogInterval = production.JobWatchdogInterval;
                o.JobReminderPeriod = production.JobReminderPeriod;
            });
        });
    }

    public async Task DisposeAsync()
    {
        if (_grid is not null)
        {
            await _grid.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClientGridCollection : ICollectionFixture<ClientGridFixture>
{
    public const string Name = "client grid";
}
