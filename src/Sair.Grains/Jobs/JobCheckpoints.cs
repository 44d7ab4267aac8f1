namespace Sair.Grains.Jobs;

/// <summary>
/// Where a restoration job's checkpoints live. Each attempt has its own folder, so a run that lost its attempt never
/// overwrites or deletes the checkpoint the current attempt resumes from. Inside it the attempt writes two slots in turn,
/// so the checkpoint its grain holds is never overwritten by the next write. Every blob a job can have written thus
/// follows from its attempt count alone, and the job deletes them all when it finishes without listing the store.
/// </summary>
public static class JobCheckpoints
{
    /// <summary>The blob of <paramref name="slot"/> (0 or 1) of one attempt.</summary>
    public static string Path(string jobId, int attempt, int slot)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        ArgumentOutOfRangeException.ThrowIfNotEqual(slot & ~1, 0, nameof(slot));
        return $"jobs/{jobId}/attempt-{attempt}/checkpoint-{slot}.bin";
    }

    /// <summary>Every checkpoint blob attempts 1 to <paramref name="attempts"/> of the job can have written.</summary>
    public static IEnumerable<string> AllPaths(string jobId, int attempts) =>
        Enumerable.Range(1, Math.Max(0, attempts)).SelectMany(attempt => new[] { Path(jobId, attempt, 0), Path(jobId, attempt, 1) });

    /// <summary>True when <paramref name="path"/> is one of the blobs that attempt of the job writes.</summary>
    public static bool IsOf(string jobId, int attempt, string path) =>
        attempt >= 1 && (path == Path(jobId, attempt, 0) || path == Path(jobId, attempt, 1));
}
