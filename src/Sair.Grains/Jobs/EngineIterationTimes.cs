namespace Sair.Grains.Jobs;

/// <summary>
/// An engine silo's seconds per restoration iteration, with and without the identity term: moving averages over its
/// runs (about the last 200 iterations), which the <see cref="EngineWorker"/> publishes with the silo's load so a
/// client can estimate an album's time. Thread-safe: slots report concurrently.
/// </summary>
public sealed class EngineIterationTimes
{
    private readonly Lock _gate = new();
    private double _withIdentity;
    private double _withoutIdentity;

    /// <summary>Seconds per iteration of runs with the identity term, or null before any was measured.</summary>
    public double? WithIdentity => Read(ref _withIdentity);

    /// <summary>Seconds per iteration of runs without it, or null before any was measured.</summary>
    public double? WithoutIdentity => Read(ref _withoutIdentity);

    /// <summary>Adds one measurement (ignored unless finite and positive).</summary>
    public void Add(bool withIdentity, double seconds)
    {
        if (!double.IsFinite(seconds) || seconds <= 0)
        {
            return;
        }

        lock (_gate)
        {
            ref var average = ref withIdentity ? ref _withIdentity : ref _withoutIdentity;
            average = average == 0 ? seconds : average + (seconds - average) / 200;
        }
    }

    private double? Read(ref double average)
    {
        lock (_gate)
        {
            return average > 0 ? average : null;
        }
    }
}
