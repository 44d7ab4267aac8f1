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
}
