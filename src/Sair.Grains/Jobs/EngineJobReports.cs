using Microsoft.Extensions.Logging;

namespace Sair.Grains.Jobs;

/// <summary>What the runners of both job kinds do alike with their reports.</summary>
public static class EngineJobReports
{
    /// <summary>
    /// Reports a failed attempt; when the report itself fails it is only logged: the grain's watchdog re-queues a run it
    /// no longer finds in its worker, so an unreported failure is retried.
    /// </summary>
    public static Task TryReportFailedAsync(this IEngineJobReports reports, int attempt, string reason, ILogger logger) =>
        TryReportAsync(reports, attempt, "failure", r => r.ReportFailedAsync(attempt, reason), logger);

    /// <summary>
    /// Reports a transient interruption; when the report itself fails it is only logged: the watchdog retries the run.
    /// </summary>
    public static Task TryReportInterruptedAsync(this IEngineJobReports reports, int attempt, Exception exception, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var reason = $"{exception.GetType().Name}: {exception.Message.Split('\n')[0].Trim()}";
        return TryReportAsync(reports, attempt, "interruption", r => r.ReportInterruptedAsync(attempt, reason), logger);
    }

    private static async Task TryReportAsync(IEngineJobReports reports, int attempt, string what, Func<IEngineJobReports, Task<bool>> report, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(reports);
        try
        {
            await report(reports);
        }
        catch (Exception reportException)
        {
            logger.LogWarning(reportException, "Could not report the {What} of attempt {Attempt} of {JobId}", what, attempt, reports.GetPrimaryKeyString());
        }
    }
}
