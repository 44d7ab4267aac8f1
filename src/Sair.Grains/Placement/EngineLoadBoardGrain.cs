using System.Collections.Immutable;

namespace Sair.Grains.Placement;

public sealed class EngineLoadBoardGrain : Grain, IEngineLoadBoardGrain
{
    // Live engine silos report every second or so; an entry this old belongs to a silo that has left.
    private static readonly TimeSpan Expiry = TimeSpan.FromMinutes(5);
    private readonly Dictionary<SiloAddress, EngineLoad> _loads = [];

    public Task ReportAsync(EngineLoad load)
    {
        foreach (var stale in _loads.Values.Where(l => load.ReportedAt - l.ReportedAt > Expiry).ToList())
        {
            _loads.Remove(stale.Silo);
        }

        if (!_loads.TryGetValue(load.Silo, out var known) || known.ReportedAt <= load.ReportedAt)
        {
            _loads[load.Silo] = load;
        }

        return Task.CompletedTask;
    }

    public Task<ImmutableArray<EngineLoad>> GetLoadsAsync() => Task.FromResult(_loads.Values.ToImmutableArray());
}
