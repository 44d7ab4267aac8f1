using Microsoft.Extensions.Logging;

namespace Sair.Grains.Jobs;

/// <summary>
/// The reports every engine job takes from the runner of its attempts (<see cref="EngineJobGrain{TRecord, TStatus}"/>
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
}

/// <summary>What the runners of both job kinds do alike with their reports.</summary>
public static class EngineJobReports
{
    /// <summary>
    /// Reports a failed attempt; when the report itself fails it is only logged: the grain's watchdog re-queues a run it
    /// no longer finds in its worker, so an unreported failure is retried.
    /// </summary>
    public static async Task TryReportFailedAsync(this IEngineJobReports reports, int attempt, string reason, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(reports);
        try
        {
            await reports.ReportFailedAsync(attempt, reason);
        }
        catch (Exception reportException)
        {
            logger.LogWarning(reportException, "Could not report the failure of attempt {Attempt} of {JobId}", attempt, reports.GetPrimaryKeyString());
        }
    }
}
