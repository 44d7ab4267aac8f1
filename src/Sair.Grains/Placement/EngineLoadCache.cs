using System.Collections.Immutable;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sair.Grains.Placement;

/// <summary>Placement settings (section "Sair:Placement").</summary>
public sealed class EnginePlacementOptions
{
    public const string Section = SettingKeys.Placement;

    /// <summary>How often each silo refreshes its copy of the engine load board.</summary>
    public TimeSpan LoadRefreshInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// This silo's copy of the engine load board, refreshed in the background so that placement never waits on a grain call.
/// </summary>
public sealed class EngineLoadCache(
    IGrainFactory grains,
    IOptions<EnginePlacementOptions> options,
    ILogger<EngineLoadCache> logger) : BackgroundService
{
    private volatile ImmutableDictionary<SiloAddress, EngineLoad> _loads = ImmutableDictionary<SiloAddress, EngineLoad>.Empty;

    public ImmutableDictionary<SiloAddress, EngineLoad> Loads => _loads;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var board = grains.GetGrain<IEngineLoadBoardGrain>(0);
        using var timer = new PeriodicTimer(options.Value.LoadRefreshInterval);
        do
        {
            try
            {
                var loads = await board.GetLoadsAsync();
                _loads = loads.ToImmutableDictionary(l => l.Silo);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogDebug(exception, "Could not read the engine load board; keeping the last copy");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
