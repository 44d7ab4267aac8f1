using Sair.Silo.Tests.Support;

namespace Sair.Silo.Tests.Hosting;

/// <summary>
/// Silo processes forming one cluster through Azure Table clustering (Azurite), with grain state in Azure blobs.
/// Every silo here is a coordinator; <see cref="AzureEngineClusterTests"/> adds an engine silo running real jobs.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureClusterTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Two_silo_processes_form_a_cluster_and_its_state_survives_a_whole_cluster_restart()
    {
        var serviceId = $"svc-{Guid.NewGuid():N}";
        var clusterId = $"cluster-{Guid.NewGuid():N}";
        SiloEnvironment[] silos =
        [
            SiloEnvironment.Azure(azurite.ConnectionString, serviceId, clusterId),
            SiloEnvironment.Azure(azurite.ConnectionString, serviceId, clusterId),
        ];
        const string album = "cluster-album";

        IReadOnlyList<(int, string, string)> before;
        await using (var cluster = await SiloCluster.StartAsync(silos, StartTimeout))
        {
            await using var grid = await GridClient.ConnectAzureAsync(azurite.ConnectionString, serviceId, clusterId);
            var hosts = await grid.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            Assert.Equal(
                silos.Select(s => s.SiloPort).Order(),
                hosts.Keys.Select(address => address.Endpoint.Port).Order());

            before = await AlbumProbe.SubmitAsync(grid.Client, album);
            await cluster.StopAsync();
        }

        Assert.Equal(3, before.Count);
        await using (var cluster = await SiloCluster.StartAsync(silos, StartTimeout))
        {
            await using var grid = await GridClient.ConnectAzureAsync(azurite.ConnectionString, serviceId, clusterId);
            Assert.Equal(before, await AlbumProbe.RecordedAsync(grid.Client, album));
        }
    }
}
