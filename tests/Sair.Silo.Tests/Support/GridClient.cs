using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Sair.Silo.Tests.Support;

/// <summary>An Orleans client in the test process, connected to silo processes through the same clustering they use.</summary>
internal sealed class GridClient : IAsyncDisposable
{
    private readonly IHost _host;

    private GridClient(IHost host) => _host = host;

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static Task<GridClient> ConnectLocalAsync(int gatewayPort, string serviceId, string clusterId) =>
        ConnectAsync(client => client.UseLocalhostClustering(gatewayPort, serviceId, clusterId));

    public static Task<GridClient> ConnectAzureAsync(string connectionString, string serviceId, string clusterId) =>
        ConnectAsync(client => client
            .Configure<ClusterOptions>(cluster =>
            {
                cluster.ServiceId = serviceId;
                cluster.ClusterId = clusterId;
            })
            .UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(connectionString)));

    private static async Task<GridClient> ConnectAsync(Action<IClientBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(configure);
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return new GridClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
