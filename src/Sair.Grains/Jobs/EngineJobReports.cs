using Microsoft.Extensions.Logging;

namespace Sair.Grains.Jobs;

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

    /// <summary>
    /// Reports a transient interruption; when the report itself fails it is only logged: the watchdog retries the run.
    /// </summary>
    public static async Task TryReportInterruptedAsync(this IEngineJobReports reports, int attempt, Exception exception, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(reports);
        ArgumentNullException.ThrowIfNull(exception);
        try
        {
            await reports.ReportInterruptedAsync(attempt, $"{exception.GetType().Name}: {exception.Message.Split('\n')[0].Trim()}");
        }
        catch (Exception reportException)
        {
            logger.LogWarning(reportException, "Could not report the interruption of attempt {Attempt} of {JobId}", attempt, reports.GetPrimaryKeyString());
        }
    }
}
