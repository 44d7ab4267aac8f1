namespace Sair.Grains.Jobs;

/// <summary>
/// What <see cref="EngineJobGrain{TRecord, TStatus}"/> reads and writes of a job's persisted state; each job kind's state
/// class keeps its own serialized layout and implements this over it.
/// </summary>
public interface IEngineJobRecord
{
    /// <summary>True once a spec was started (the job has work, finished or not).</summary>
    bool Submitted { get; }

    /// <summary>Where the job is in its lifecycle.</summary>
    JobState State { get; set; }

    /// <summary>The attempt that may report; every dispatch bumps it, fencing off older runs.</summary>
    int Attempt { get; set; }

    /// <summary>The silo of the current attempt.</summary>
    string? Silo { get; set; }

    /// <summary>Why the job failed or was cancelled.</summary>
    string? Error { get; set; }

    /// <summary>The tenant the job belongs to (null on a grid without tenants).</summary>
    string? Tenant { get; set; }
}
