using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sair.Grains;
using Sair.Grains.Engine;
using Sair.Grains.Hosting;
using Sair.Grains.Placement;
using Sair.Grains.Storage;

namespace Sair.Silo;

public static class SiloHostingExtensions
{
    /// <summary>
    /// The embedded single-machine grid: localhost clustering, in-memory grain state and reminders, and the file-system
    /// image store. Cluster-wide clustering, state and reminders (Azure Storage) replace the in-memory ones for a
    /// deployment where silos may die: in memory, they die with the silo that holds them.
    /// Register the engine ports (<see cref="IRestorationEngine"/>, <see cref="IFaceAnalyzer"/>) before calling this.
    /// </summary>
    public static IHostApplicationBuilder AddSairSilo(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SairSiloOptions.Section).Get<SairSiloOptions>() ?? new SairSiloOptions();
        if (options.Role == SiloMetadataKeys.EngineRole && !builder.Services.Any(d => d.ServiceType == typeof(IRestorationEngine)))
        {
            throw new InvalidOperationException(
                $"Sair:Silo:Role is '{SiloMetadataKeys.EngineRole}' but no IRestorationEngine is registered: " +
                "run this silo as a coordinator (Sair__Silo__Role=coordinator) until the engine adapter is wired in.");
        }

        builder.Services.AddSingleton<IImageStore>(new FileSystemImageStore(options.ImageRoot));
        builder.UseOrleans(silo =>
        {
            var primary = options.PrimarySiloPort is { } port ? new IPEndPoint(IPAddress.Loopback, port) : null;
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, primary, options.ServiceId, options.ClusterId);
            foreach (var name in GridStorage.All)
            {
                silo.AddMemoryGrainStorage(name);
            }

            silo.UseInMemoryReminderService();
            silo.AddSairGrid(options.Role, options.Accelerator, builder.Configuration);
        });
        return builder;
    }
}
