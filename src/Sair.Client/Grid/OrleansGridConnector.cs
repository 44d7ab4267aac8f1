using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using Sair.Grains.Ports;
using Sair.Grains.Security;
using Sair.Grains.Telemetry;
using Sair.Grains.Tenancy;

namespace Sair.Client.Grid;

/// <summary>
/// Connects an Orleans client: to the given gateways when a cluster is configured, otherwise to the local silo it
/// starts on demand. Images travel through the grid either way (<see cref="GridImageStore"/>): the client never opens
/// the silos' store itself.
/// </summary>
public sealed class OrleansGridConnector(SairHome home, Action<string> say) : IGridConnector
{
    public const string ClusterId = "sair";

    public const string ServiceId = "sairgrid";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);

    public async Task<IGridConnection> ConnectAsync(GridTarget target, CancellationToken cancellationToken)
    {
        IReadOnlyList<IPEndPoint> gateways;
        string description;
        if (target.Gateways is { Count: > 0 } given)
        {
            if (target.Engine is { IsEmpty: false })
            {
                throw new GridUnavailableException(
                    "--generator and --identity-net choose the files of a local silo; a cluster's engines are configured where they run.");
            }

            gateways = given;
            description = $"cluster {string.Join(",", given)}";
        }
        else
        {
            var silo = await new LocalSilo(home).EnsureRunningAsync(target.Engine, say, cancellationToken);
            gateways = [new IPEndPoint(IPAddress.Loopback, silo.GatewayPort)];
            description = $"local silo (pid {silo.ProcessId}, {home.Root})";
        }

        // On a grid with tenants every call carries the tenant's token (SAIR_TOKEN); the silos check it.
        var token = Environment.GetEnvironmentVariable(TenantContext.TokenVariable) is { Length: > 0 } set ? set.Trim() : null;
        if (token is not null)
        {
            description += TenantToken.ClaimedTenant(token) is { } tenant ? $", tenant {tenant}" : ", with a malformed token";
        }

        // TLS to the gateway when the user names the grid's CA (SAIR_TLS_CA).
        X509Certificate2Collection? roots = null;
        if (Environment.GetEnvironmentVariable(GridTls.CaVariable) is { Length: > 0 } ca)
        {
            try
            {
                roots = GridTls.LoadRoots(ca);
            }
            catch (ArgumentException exception)
            {
                throw new GridUnavailableException($"{GridTls.CaVariable}: {exception.Message}");
            }

            description += ", TLS";
        }

        var deadline = DateTime.UtcNow + ConnectTimeout;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering([.. gateways]);
            client.AddActivityPropagation();
            if (roots is not null)
            {
                ClientTls.Use(client, roots);
            }
            if (token is not null)
            {
                client.AddOutgoingGrainCallFilter(call =>
                {
                    RequestContext.Set(TenantContext.TokenKey, token);
                    return call.Invoke();
                });
            }

            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = target.Gateways is { Count: > 0 } ? target.ClusterId ?? ClusterId : ClusterId;
                o.ServiceId = Environment.GetEnvironmentVariable("SAIR_SERVICE_ID") ?? ServiceId;
            });
            // A gateway that is still starting gets a few more tries; a wrong address fails within the timeout.
            client.UseConnectionRetryFilter(async (_, token) =>
            {
                if (DateTime.UtcNow > deadline)
                {
                    return false;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), token);
                return true;
            });
        });
        if (Environment.GetEnvironmentVariable("SAIR_OTLP_ENDPOINT") is { Length: > 0 } otlp)
        {
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing
                .AddSource(GridTelemetry.Name, Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName)
                .AddOtlpExporter(exporter => exporter.Endpoint = new Uri(otlp)));
        }

        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout + TimeSpan.FromSeconds(5));
        try
        {
            await host.StartAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new GridUnavailableException(
                $"No gateway of the {description} answered within {ConnectTimeout.TotalSeconds:0} s: is it running, and are the host and port right?");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            host.Dispose();
            var hint = roots is null && target.Gateways is { Count: > 0 } ? $" (a grid that speaks TLS needs {GridTls.CaVariable}, the path of its CA)" : "";
            throw new GridUnavailableException($"Could not connect to the {description}: {exception.Message}{hint}", exception);
        }

        return new Connection(host, host.Services.GetRequiredService<IClusterClient>(), description);
    }

    private sealed class Connection(IHost host, IGrainFactory grains, string description) : IGridConnection
    {
        public IGrainFactory Grains => grains;

        public IImageStore Images { get; } = new GridImageStore(grains);

        public string Description => description;

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync();
            host.Dispose();
        }
    }
}
