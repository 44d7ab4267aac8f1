using System.Collections.Immutable;

namespace Sair.Grains.Placement;

/// <summary>
/// Where engine silos publish their load and placement directors read it (one board per cluster, key 0).
/// The board keeps no state: a reactivated board refills within one report interval.
/// </summary>
[Alias("sair.IEngineLoadBoardGrain")]
public interface IEngineLoadBoardGrain : IGrainWithIntegerKey
{
    [Alias("Report")]
    Task ReportAsync(EngineLoad load);

    [Alias("GetLoads")]
    Task<ImmutableArray<EngineLoad>> GetLoadsAsync();
}

/// <summary>An engine silo's jobs at <paramref name="ReportedAt"/>.</summary>
/// <param name="Capacity">Jobs the silo runs at the same time.</param>
/// <param name="SecondsPerIteration">
/// Measured wall seconds per restoration iteration with the identity term on this silo's loaded generator (a moving
/// average over its recent runs, as busy as the silo was); null until a run has measured it.
/// </param>
/// <param name="SecondsPerIterationWithoutIdentity">The same for runs without the identity term.</param>
[GenerateSerializer, Immutable, Alias("sair.EngineLoad")]
public sealed record EngineLoad(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] int Active,
    [property: Id(2)] int Queued,
    [property: Id(3)] int Capacity,
    [property: Id(4)] DateTimeOffset ReportedAt,
    [property: Id(5)] double? SecondsPerIteration = null,
    [property: Id(6)] double? SecondsPerIterationWithoutIdentity = null)
{
    public int Jobs => Active + Queued;
}
