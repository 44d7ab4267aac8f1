namespace Sair.Grains.Jobs;

/// <summary>Engine silo settings (section "Sair:Engine").</summary>
public sealed class EngineWorkerOptions
{
    public const string Section = SettingKeys.Engine;

    /// <summary>Jobs optimised at the same time on this silo; one per GPU is the norm (the generator is loaded once).</summary>
    public int MaxConcurrentJobs { get; set; } = 1;

    /// <summary>How often the silo publishes its load (active + queued jobs) for placement, besides on every change.</summary>
    public TimeSpan LoadReportInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Least time between two progress reports of one job to its grain (iterations in between are coalesced).</summary>
    public TimeSpan ProgressReportInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a job grain checks that its silo's worker still holds its run, and re-queues it if not.</summary>
    public TimeSpan JobWatchdogInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Period of the durable reminder an unfinished job keeps. When the job's silo dies, the next tick activates the
    /// job on another engine silo, where it resumes from its checkpoint: the longest a lone job waits after a crash.
    /// </summary>
    public TimeSpan JobReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How many attempts a job may take before a run cut short by the grid (silos lost, storage unreachable or full)
    /// fails it instead of trying again.
    /// </summary>
    public int MaxAttempts { get; set; } = 20;

    /// <summary>
    /// Wait before retrying a run cut short by the grid; doubled after each further interruption in a row, up to
    /// <see cref="RetryBackoffMax"/>.
    /// </summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between two retries of an interrupted run.</summary>
    public TimeSpan RetryBackoffMax { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The backoff before retry number <paramref name="interruptions"/> (1 = the first).</summary>
    public TimeSpan BackoffAfter(int interruptions) =>
        TimeSpan.FromTicks(Math.Min(RetryBackoffMax.Ticks, RetryBackoff.Ticks * (1L << Math.Clamp(interruptions - 1, 0, 20))));
}
