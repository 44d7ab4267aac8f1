using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Sair.Grains.Ports;
using Sair.Silo.Storage;
using Sair.Silo.Adapters;

namespace Sair.Silo.Tests.Adapters;

/// <summary>
/// An in-process grid on the real engine: the shared <see cref="GridCluster"/> (Silo_0 a coordinator, Silo_1 an engine
/// silo) with every port wired by <see cref="EngineHostingExtensions.AddSairEngine(IServiceCollection, EngineModels)"/>
/// over the tiny generator's models (shared, loaded once), one engine slot, and the file-system image store in a
/// temporary folder.
/// </summary>
public sealed class RealEngineCluster : IAsyncLifetime
{
    private readonly string _imageRoot = Path.Combine(Path.GetTempPath(), $"sair-silo-tests-{Guid.NewGuid():N}");

    private GridCluster _grid = null!;

    public InProcessTestCluster Cluster => _grid.Cluster;

    public IClusterClient Client => _grid.Client;

    public IImageStore Images { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var models = TinyEngine.Models;
        Images = new FileSystemImageStore(_imageRoot);
        _grid = await GridCluster.StartAsync(2, new GridPorts(Images, null, null, null, null), slots: _ => 1,
            configure: (_, silo) => silo.Services.AddSairEngine(models));
    }

    public async Task DisposeAsync()
    {
        await _grid.DisposeAsync();
        if (Directory.Exists(_imageRoot))
        {
            Directory.Delete(_imageRoot, recursive: true);
        }
    }
}
