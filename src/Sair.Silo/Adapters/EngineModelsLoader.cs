using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sair.Silo.Adapters;

/// <summary>
/// Starts loading the models when the silo starts, without holding up the start (a 1024 px generator takes a while);
/// requests wait on <see cref="ModelsReadiness"/>. A silo whose models cannot load stops: left running, it would
/// accept jobs and pool requests only to fail every one of them.
/// </summary>
public sealed class EngineModelsLoader(EngineModels models, IHostApplicationLifetime lifetime, ILogger<EngineModelsLoader> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = models.LoadAsync().ContinueWith(
            loading =>
            {
                logger.LogCritical(loading.Exception!.InnerException, "The SAIR models could not be loaded; stopping the silo");
                lifetime.StopApplication();
            },
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
