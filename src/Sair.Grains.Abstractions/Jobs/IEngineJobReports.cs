namespace Sair.Grains.Jobs;

/// <summary>
/// The reports every engine job takes from the runner of its attempts (<c>EngineJobGrain</c> in Sair.Grains
/// implements them). Every report names the attempt it belongs to; a report from a superseded attempt (a run still
/// winding down on a silo that lost the grain) is refused with false, which also tells that run to stop.
/// </summary>
[Alias("sair.IEngineJobReports")]
public interface IEngineJobReports : IGrainWithStringKey
{
    [Alias("ReportStarted")]
    Task<bool> ReportStartedAsync(int attempt, string silo);

    [Alias("ReportFailed")]
    Task<bool> ReportFailedAsync(int attempt, string reason);

    /// <summary>
    /// The attempt was cut short by the grid (a silo lost, storage unreachable or full), not by its work: the job tries
    /// again from its checkpoint after a backoff, or fails with <paramref name="reason"/> once its attempts are spent.
    /// </summary>
    [Alias("ReportInterrupted")]
    Task<bool> ReportInterruptedAsync(int attempt, string reason);

    /// <summary>Whether <paramref name="attempt"/> is still the job's current one: a run asks before it writes its result.</summary>
    [Alias("IsCurrent")]
    Task<bool> IsCurrentAsync(int attempt);
}
