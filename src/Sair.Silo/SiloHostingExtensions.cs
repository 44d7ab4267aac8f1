using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime.Hosting;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Sair.Engine.Runtime;
using Sair.Grains;
using Sair.Grains.Ports;
using Sair.Grains.Hosting;
using Sair.Grains.Placement;
using Sair.Grains.Telemetry;
using Sair.Silo.Health;
using Sair.Silo.Hosting;
using Sair.Silo.Storage;

namespace Sair.Silo;

public static class SiloHostingExtensions
{
    /// <summary>Orleans' own meter (messaging, activations, membership), exported next to the grid's.</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>
    /// Wires a silo: clustering, grain state, reminders and the image store per <see cref="SairStorageOptions.Provider"/>
    /// ("local": the embedded single-machine grid whose state survives restarts; "azure": a cluster on Azure Storage),
    /// metrics and traces, and the HTTP port of the health probes and the Prometheus endpoint
    /// (map them with <see cref="MapSairEndpoints"/>).
    /// Register the engine ports (<see cref="IRestorationEngine"/>, <see cref="IFaceAnalyzer"/>) before calling this;
    /// an engine adapter takes <see cref="IEngineReadiness"/> and sets it once its generator is loaded.
    /// </summary>
    public static IHostApplicationBuilder AddSairSilo(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var options = configuration.GetSection(SairSiloOptions.Section).Get<SairSiloOptions>() ?? new SairSiloOptions();
        var storage = configuration.GetSection(SairStorageOptions.Section).Get<SairStorageOptions>() ?? new SairStorageOptions();
        var health = configuration.GetSection(SairHealthOptions.Section).Get<SairHealthOptions>() ?? new SairHealthOptions();
        var telemetry = configuration.GetSection(SairTelemetryOptions.Section).Get<SairTelemetryOptions>() ?? new SairTelemetryOptions();
        var dashboard = configuration.GetSection(SairDashboardOptions.Section).Get<SairDashboardOptions>() ?? new SairDashboardOptions();
        var tls = configuration.GetSection(SairTlsOptions.Section).Get<SairTlsOptions>() ?? new SairTlsOptions();
        var isEngine = options.Role == SiloMetadataKeys.EngineRole;
        // The slim host registers only the simple console formatter; Logging:Console:FormatterName=json (k8s sets it)
        // would otherwise fall back to it silently.
        if (string.Equals(configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole();
        }

        if (isEngine && !builder.Services.Any(d => d.ServiceType == typeof(IRestorationEngine)))
        {
            throw new InvalidOperationException(
                $"Sair:Silo:Role is '{SiloMetadataKeys.EngineRole}' but no IRestorationEngine is registered: " +
                "run this silo as a coordinator (Sair__Silo__Role=coordinator) until the engine adapter is wired in.");
        }

        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.TryAddSingleton<IEngineReadiness>(new EngineReadiness(hasEngine: isEngine));
        builder.Services.AddSingleton<SiloReadiness>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloReadiness>());
        // The dashboard's page: on coordinators only (engine silos are busy with the GPU), on a port of its own.
        var servesDashboard = dashboard.Enabled && !isEngine;
        if (servesDashboard && dashboard.Port == health.Port)
        {
            throw new InvalidOperationException(
                $"Sair:Dashboard:Port is {dashboard.Port}, the health port: give the dashboard a port of its own (Sair__Dashboard__Port).");
        }

        builder.Services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.ListenAnyIP(health.Port);
            if (servesDashboard)
            {
                kestrel.ListenAnyIP(dashboard.Port);
            }
        });
        if (servesDashboard)
        {
            builder.Services.AddSingleton(new DashboardEndpoint(dashboard.Port));
        }

        AddTelemetry(builder.Services, telemetry, options);

        var provider = storage.Provider.Trim().ToLowerInvariant();
        var kubernetes = KubernetesHosting.IsEnabled(options, provider, configuration);
        if (kubernetes)
        {
            KubernetesHosting.CheckIds(options, configuration);
        }

        builder.UseOrleans(silo =>
        {
            switch (provider)
            {
                case SairStorageOptions.LocalProvider:
                    UseLocalStorage(silo, options, storage);
                    break;
                case SairStorageOptions.AzureProvider:
                    UseAzureStorage(silo, options, storage, KubernetesHosting.AdvertisedAddress(options, kubernetes, configuration), kubernetes);
                    break;
                default:
                    throw new InvalidOperationException(
                        $"Sair:Storage:Provider is '{storage.Provider}': use '{SairStorageOptions.LocalProvider}' (one machine, files) " +
                        $"or '{SairStorageOptions.AzureProvider}' (Azure Storage or Azurite, with Sair:Storage:ConnectionString).");
            }

            if (dashboard.Enabled)
            {
                // Every silo collects (the dashboard asks each silo for its own statistics); coordinators serve the page.
                silo.AddDashboard();
            }

            if (tls.Enabled)
            {
                tls.Apply(silo);
            }

            silo.AddActivityPropagation();
            silo.AddSairGrid(options.Role, options.Accelerator, configuration);
        });
        return builder;
    }

    /// <summary>Serves liveness, readiness and the Prometheus scrape endpoint on the port of <see cref="SairHealthOptions"/>.</summary>
    public static IEndpointRouteBuilder MapSairEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SairHealthOptions.LivenessPath, () => Results.Text("alive"));
        endpoints.MapGet(SairHealthOptions.ReadinessPath, (SiloReadiness silo, IEngineReadiness engine) =>
            !silo.IsActive ? Results.Text("the silo is not an active cluster member", statusCode: StatusCodes.Status503ServiceUnavailable)
            : !engine.IsReady ? Results.Text(engine.Reason, statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text(CpuKernels.Current is { } kernels ? $"ready\n{kernels.Summary}" : "ready"));
        endpoints.MapPrometheusScrapingEndpoint(SairHealthOptions.MetricsPath);
        if (endpoints.ServiceProvider.GetService<DashboardEndpoint>() is { } dashboard)
        {
            // Only on the dashboard's own port: the health port (which NetworkPolicy admits) serves no dashboard.
            endpoints.MapOrleansDashboard().RequireHost($"*:{dashboard.Port}");
        }

        return endpoints;
    }

    private static void UseLocalStorage(ISiloBuilder silo, SairSiloOptions options, SairStorageOptions storage)
    {
        var primary = options.PrimarySiloPort is { } port ? new IPEndPoint(IPAddress.Loopback, port) : null;
        silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, primary, options.ServiceId, options.ClusterId);
        var grainRoot = Path.Combine(storage.DataRoot, "grains");
        foreach (var name in GridStorage.All)
        {
            silo.Services.AddGrainStorage(name, (sp, providerName) => new FileGrainStorage(
                grainRoot, providerName, sp.GetRequiredService<IGrainStorageSerializer>(), sp.GetRequiredService<IActivatorProvider>()));
        }

        silo.Services.AddSingleton<IReminderTable>(new FileReminderTable(storage.DataRoot));
        silo.AddReminders();
        silo.Services.AddSingleton<IImageStore>(new FileSystemImageStore(options.ImageRoot));
    }

    private static void UseAzureStorage(ISiloBuilder silo, SairSiloOptions options, SairStorageOptions storage, IPAddress? advertised, bool kubernetes)
    {
        var connection = storage.ConnectionString;
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new InvalidOperationException(
                "Sair:Storage:Provider is 'azure' but Sair:Storage:ConnectionString is empty: set it " +
                "(environment Sair__Storage__ConnectionString, from a secret) or use the 'local' provider.");
        }

        if (kubernetes)
        {
            // Silo name = pod name; the pods of this cluster (labels orleans/serviceId, orleans/clusterId) are watched and
            // silos whose pod is gone declared dead. Registered before the settings below, which it must not override:
            // the ids are checked against ORLEANS_* (KubernetesHosting.CheckIds) and the endpoints are set explicitly.
            silo.UseKubernetesHosting();
        }

        silo.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = options.ClusterId;
            cluster.ServiceId = options.ServiceId;
        });
        // Sair:Silo:AdvertisedIp, else (Kubernetes hosting) POD_IP: set here, so Orleans' Kubernetes hosting keeps it.
        if (advertised is null)
        {
            silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, AddressFamily.InterNetwork, listenOnAnyHostAddress: true);
        }
        else
        {
            silo.ConfigureEndpoints(advertised, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
        }

        silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(connection));
        foreach (var name in GridStorage.All)
        {
            // Blobs, not tables: a pool's state grows with its references and a table entity stops at 1 MB.
            silo.AddAzureBlobGrainStorage(name, o => o.BlobServiceClient = new BlobServiceClient(connection));
        }

        silo.UseAzureTableReminderService(o => o.TableServiceClient = new TableServiceClient(connection));
        silo.Services.AddSingleton<IImageStore>(new AzureBlobImageStore(new BlobContainerClient(connection, storage.ImageContainer)));
    }

    private static void AddTelemetry(IServiceCollection services, SairTelemetryOptions telemetry, SairSiloOptions options)
    {
        var otlp = string.IsNullOrWhiteSpace(telemetry.OtlpEndpoint) ? null : new Uri(telemetry.OtlpEndpoint);
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(telemetry.ServiceName, serviceInstanceId: Environment.MachineName)
                .AddAttributes([
                    new("sair.silo.role", options.Role),
                    new("sair.silo.accelerator", options.Accelerator),
                ]))
            // Metrics take one path: Prometheus scrapes /metrics (k8s/base/prometheus-config.yaml). Exporting them over
            // OTLP as well made every sum() on the dashboard count each job twice (once per path).
            // Runtime metrics (GC, heap, thread pool, CPU): the first thing to look at when an engine silo slows down.
            .WithMetrics(metrics => metrics.AddMeter(GridTelemetry.Name, OrleansMeterName).AddRuntimeInstrumentation().AddPrometheusExporter());
        if (otlp is not null)
        {
            otel.WithTracing(tracing => tracing
                .AddSource(GridTelemetry.Name, Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName)
                .AddOtlpExporter(exporter => exporter.Endpoint = otlp));
            // Logs leave the pod too, with their trace ids: the same collector receives them (console logs stay).
            services.AddLogging(logging => logging.AddOpenTelemetry(options =>
            {
                options.IncludeFormattedMessage = true;
                options.AddOtlpExporter(exporter => exporter.Endpoint = otlp);
            }));
        }
    }
}

/// <summary>The port a coordinator serves the Orleans Dashboard on (registered only when it does).</summary>
internal sealed record DashboardEndpoint(int Port);
