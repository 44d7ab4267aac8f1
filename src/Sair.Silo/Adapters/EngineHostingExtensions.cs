using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sair.Grains.Ports;
using Sair.Grains.Placement;
using Sair.Grains.Training;
using Sair.Silo.Health;

namespace Sair.Silo.Adapters;

public static class EngineHostingExtensions
{
    /// <summary>
    /// Wires the SAIR engine into this silo from configuration: the face analyzer on every silo and, when
    /// Sair:Silo:Role is "engine", the restoration and training engines (which then need Sair:Engine:GeneratorPath).
    /// Call before <see cref="SiloHostingExtensions.AddSairSilo"/>.
    /// </summary>
    public static IHostApplicationBuilder AddSairEngine(this IHostApplicationBuilder builder)
    {
        var role = builder.Configuration.GetSection(SairSiloOptions.Section).Get<SairSiloOptions>()?.Role ?? SiloMetadataKeys.CoordinatorRole;
        var options = builder.Configuration.GetSection(SairEngineOptions.Section).Get<SairEngineOptions>() ?? new SairEngineOptions();
        var restores = role == SiloMetadataKeys.EngineRole;
        if (restores && string.Equals(options.GeneratorPath, EmbeddedDefaults.GeneratorSetting, StringComparison.OrdinalIgnoreCase))
        {
            EmbeddedDefaults.Apply(options);
            Console.Error.WriteLine($"note: {EmbeddedDefaults.Notice(options.GeneratorPath!)}");
        }

        builder.Services.AddSairEngine(options, restores);
        return builder;
    }

    /// <summary>Registers the models (loaded at start-up), the face analyzer and, when <paramref name="restores"/>, the engines.</summary>
    public static IServiceCollection AddSairEngine(this IServiceCollection services, SairEngineOptions options, bool restores)
    {
        options.Validate(restores);
        services.AddSingleton(sp => new EngineModels(options, restores, sp.GetService<ILogger<EngineModels>>()));
        return services.AddEnginePorts(restores);
    }

    /// <summary>
    /// As <see cref="AddSairEngine(IServiceCollection, SairEngineOptions, bool)"/> over models the caller owns and may
    /// share between silos of one process (tests); the container does not dispose them.
    /// </summary>
    public static IServiceCollection AddSairEngine(this IServiceCollection services, EngineModels models)
    {
        ArgumentNullException.ThrowIfNull(models);
        services.AddSingleton(models);
        return services.AddEnginePorts(models.Restores);
    }

    private static IServiceCollection AddEnginePorts(this IServiceCollection services, bool restores)
    {
        services.AddSingleton<IEngineReadiness>(sp => sp.GetRequiredService<EngineModels>().Readiness);
        services.AddHostedService<EngineModelsLoader>();
        services.AddSingleton<IFaceAnalyzer, SairFaceAnalyzer>();
        if (restores)
        {
            services.AddSingleton<IRestorationEngine, SairRestorationEngine>();
            services.AddSingleton<IPhotoComposer, SairPhotoComposer>();
            services.AddSingleton<ITrainingEngine, SairTrainingEngine>();
        }

        return services;
    }
}
