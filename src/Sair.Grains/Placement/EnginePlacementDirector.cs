using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Sair.Grains.Placement;

/// <summary>
/// Places <see cref="EnginePlacementStrategy"/> grains on the engine silo with the fewest jobs per slot.
/// Orleans' metadata placement filters compare candidates with the calling silo's metadata, which a client call
/// does not have, hence this director. Load comes from the board (refreshed every fraction of a second) plus the
/// placements this silo made since the chosen silo's last report, so a burst of placements spreads instead of all
/// landing on the silo that looked idle. A silo is an engine when its metadata says so or when it reports engine load:
/// a silo's metadata cache fetches a new silo's metadata once, and when that fetch times out (a busy engine silo
/// answering late) it would otherwise never learn of the engine.
/// </summary>
public sealed class EnginePlacementDirector(ISiloMetadataCache metadata, EngineLoadCache loads) : IPlacementDirector
{
    private static readonly TimeSpan PlacementMemory = TimeSpan.FromMinutes(1);
    private readonly Lock _gate = new();
    private readonly Dictionary<SiloAddress, List<DateTimeOffset>> _recentPlacements = [];

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var known = loads.Loads;
        var engines = context.GetCompatibleSilos(target).Where(silo => IsEngine(silo) || known.ContainsKey(silo)).ToArray();
        if (engines.Length == 0)
        {
            throw new OrleansException(
                $"No engine silo can host {target.GrainIdentity}: start a silo with metadata " +
                $"{SiloMetadataKeys.Role}={SiloMetadataKeys.EngineRole} (and an IRestorationEngine).");
        }

        var now = DateTimeOffset.UtcNow;
        lock (_gate)
        {
            foreach (var placements in _recentPlacements.Values)
            {
                placements.RemoveAll(at => now - at > PlacementMemory);
            }

            // Shuffled first so that ties (an idle cluster) spread across silos.
            Random.Shared.Shuffle(engines);
            var chosen = engines.MinBy(silo => EstimatedJobsPerSlot(silo, known))!;
            if (!_recentPlacements.TryGetValue(chosen, out var chosenPlacements))
            {
                _recentPlacements[chosen] = chosenPlacements = [];
            }

            chosenPlacements.Add(now);
            return Task.FromResult(chosen);
        }
    }

    private bool IsEngine(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(SiloMetadataKeys.Role, out var role)
        && string.Equals(role, SiloMetadataKeys.EngineRole, StringComparison.OrdinalIgnoreCase);

    private double EstimatedJobsPerSlot(SiloAddress silo, IReadOnlyDictionary<SiloAddress, EngineLoad> known)
    {
        known.TryGetValue(silo, out var load);
        var unreported = 0;
        if (_recentPlacements.TryGetValue(silo, out var placements))
        {
            var reportedAt = load?.ReportedAt ?? DateTimeOffset.MinValue;
            unreported = placements.Count(at => at > reportedAt);
        }

        return (double)((load?.Jobs ?? 0) + unreported) / (load?.Capacity ?? 1);
    }
}
