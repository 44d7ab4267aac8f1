using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Sair.Grains.Albums;
using Sair.Grains.Jobs;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sair.Grains.Placement;
using Sair.Grains.Tenancy;
using Sair.Grains.Training;

namespace Sair.Grains.Hosting;

public static class GridSiloBuilderExtensions
{
    /// <summary>
    /// Wires the grid into a silo: silo metadata (role and accelerator), engine placement, the load board copy and,
    /// on engine silos, the engine worker. The host still registers grain storage for every <see cref="GridStorage"/>
    /// name, an <see cref="Ports.IImageStore"/>, an <see cref="Ports.IFaceAnalyzer"/> and, on engine silos,
    /// an <see cref="Ports.IRestorationEngine"/> (and, to run training jobs, an <see cref="ITrainingEngine"/>).
    /// </summary>
    /// <param name="role"><see cref="SiloMetadataKeys.EngineRole"/> or <see cref="SiloMetadataKeys.CoordinatorRole"/>.</param>
    /// <param name="accelerator">What the silo computes on ("gpu", "cpu"), advertised as <see cref="SiloMetadataKeys.Accelerator"/>.</param>
    /// <param name="configuration">Optional configuration with the "Sair:Engine", "Sair:Placement", "Sair:Albums", "Sair:Limits" and "Sair:Tenancy" sections.</param>
    public static ISiloBuilder AddSairGrid(this ISiloBuilder silo, string role, string accelerator, IConfiguration? configuration = null)
    {
        if (role is not (SiloMetadataKeys.EngineRole or SiloMetadataKeys.CoordinatorRole))
        {
            throw new ArgumentException(
                $"Silo role '{role}' is unknown: use '{SiloMetadataKeys.EngineRole}' or '{SiloMetadataKeys.CoordinatorRole}'.", nameof(role));
        }

        silo.UseSiloMetadata(new Dictionary<string, string>
        {
            [SiloMetadataKeys.Role] = role,
            [SiloMetadataKeys.Accelerator] = accelerator,
        });

        // Exceptions of types a client cannot load reach it as GridException with their message.
        silo.AddIncomingGrainCallFilter<ClientFacingExceptionFilter>();

        // On a grid with tenants (Sair:Tenancy:SigningKey), who may call what; the silos' own calls show a credential.
        silo.AddIncomingGrainCallFilter<TenantGate>();
        silo.AddOutgoingGrainCallFilter<SiloCallStamp>();

        var services = silo.Services;
        services.AddPlacementDirector<EnginePlacementStrategy, EnginePlacementDirector>();
        services.AddSingleton<EngineLoadCache>();
        services.AddHostedService(sp => sp.GetRequiredService<EngineLoadCache>());
        var placement = services.AddOptions<EnginePlacementOptions>();
        var albums = services.AddOptions<AlbumOptions>();
        var limits = services.AddOptions<GridLimits>()
            .Validate(o => o.MaxIterations >= 1 && o.MaxAlbumPhotos >= 1 && o.MaxAlbumFaces >= 1 && o.MaxTrainingImages >= 1
                && o.MaxTrainingBatch >= 1 && o.MaxEmotionSamples >= 1 && o.MaxTenantJobs >= 1 && o.MaxTenantStorageBytes >= 1
                && o.MaxUpscale is >= Ports.RestorationOptions.MinUpscale and <= Ports.RestorationOptions.MaxUpscale, "Every Sair:Limits setting must be 1 or more (MaxUpscale: 0.25 to 8).");
        var tenancy = services.AddOptions<TenancyOptions>()
            .Validate(o => { _ = o.Key(); return true; }).ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        var engine = services.AddOptions<EngineWorkerOptions>()
            .Validate(o => o.MaxConcurrentJobs >= 1 && o.MaxAttempts >= 1, "Sair:Engine:MaxConcurrentJobs and MaxAttempts must be 1 or more.");
        if (configuration is not null)
        {
            placement.Bind(configuration.GetSection(EnginePlacementOptions.Section));
            albums.Bind(configuration.GetSection(AlbumOptions.Section));
            limits.Bind(configuration.GetSection(GridLimits.Section));
            engine.Bind(configuration.GetSection(EngineWorkerOptions.Section));
            tenancy.Bind(configuration.GetSection(TenancyOptions.Section));
        }

        if (role == SiloMetadataKeys.EngineRole)
        {
            services.AddSingleton<EngineIterationTimes>();
            services.AddSingleton<EngineWorker>();
            services.AddHostedService(sp => sp.GetRequiredService<EngineWorker>());
            services.AddSingleton<ReferenceResolver>();
            services.AddSingleton<RestorationRunner>();
            services.AddSingleton<TrainingRunner>();
        }

        return silo;
    }
}
