using Xunit;

namespace Sair.Testing;

/// <summary>A coordinator and one engine silo, shared by tests that use fresh grain keys.</summary>
public sealed class SingleEngineGridFixture : IAsyncLifetime
{
    public GridCluster Grid { get; private set; } = null!;

    public async Task InitializeAsync() => Grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(5));

    public async Task DisposeAsync() => await Grid.DisposeAsync();
}
