using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sair.Grains.Telemetry;

/// <summary>
/// The grid's own metrics (BCL System.Diagnostics.Metrics; the host decides where they go), on the meter named
/// <see cref="GridTelemetry.Name"/>. Metric tags stay low-cardinality — preset, outcome, silo — so a dashboard can sum
/// them; job ids go on spans only.
/// </summary>
public static class GridMetrics
{
    private static readonly Meter Meter = new(GridTelemetry.Name);
    private static readonly ConcurrentDictionary<string, Func<(int Active, int Queued)>> EngineLoads = new(StringComparer.Ordinal);

    public static readonly Counter<long> JobsSubmitted =
        Meter.CreateCounter<long>("sair.jobs.submitted", "{job}", "Jobs accepted by their job grain.");

    public static readonly Counter<long> JobsStarted =
        Meter.CreateCounter<long>("sair.jobs.started", "{attempt}", "Job attempts an engine worker began to run.");

    public static readonly Counter<long> JobsCompleted =
        Meter.CreateCounter<long>("sair.jobs.completed", "{job}", "Jobs that produced their restored photo.");

    public static readonly Counter<long> JobsFailed =
        Meter.CreateCounter<long>("sair.jobs.failed", "{job}", "Jobs that ended with an error.");

    /// <summary>Optimisation steps run; its rate is the grid's iterations per second.</summary>
    public static readonly Counter<long> Iterations =
        Meter.CreateCounter<long>("sair.engine.iterations", "{iteration}", "Optimisation iterations run by engine workers.");

    public static readonly Histogram<double> JobDuration = Meter.CreateHistogram(
        "sair.job.duration", "s", "Wall time of one job attempt on an engine worker, by outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600] });

    /// <summary>
    /// Identity similarity of each completed job's result to its reference, by the loss's own identity net (what the
    /// summary table shows; a quality signal over time, not an independent judge — docs/quality.md).
    /// </summary>
    public static readonly Histogram<double> IdentitySimilarity = Meter.CreateHistogram(
        "sair.job.identity_similarity", "1", "Identity similarity of a completed job's result to its reference (the loss's identity net).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 1] });

    /// <summary>Real images the prior trainers have shown their discriminators; its rate is the grid's training images/s.</summary>
    public static readonly Counter<long> TrainingImages =
        Meter.CreateCounter<long>("sair.training.images", "{image}", "Real images shown to the discriminator by prior training jobs.");

    /// <summary>The latest FFD a prior training run measured on each engine silo (lower is better; docs: priors' model cards).</summary>
    private static readonly ConcurrentDictionary<string, double> LatestFfd = new(StringComparer.Ordinal);

    /// <summary>Records the FFD a training run on <paramref name="siloName"/> just measured.</summary>
    public static void TrainingFfd(string siloName, double ffd) => LatestFfd[siloName] = ffd;

    static GridMetrics()
    {
        Meter.CreateObservableGauge("sair.training.ffd", () => LatestFfd.Select(pair =>
            new Measurement<double>(pair.Value, new KeyValuePair<string, object?>(GridTelemetry.SiloTag, pair.Key))), "1",
            "The latest Fréchet feature distance measured by a prior training job, per engine silo.");
        // Up-down counters, not gauges: active and queued jobs are counts that add up across silos (OpenTelemetry's
        // instrument guidance), so sum() over silos is the grid's total.
        Meter.CreateObservableUpDownCounter("sair.engine.active_jobs", () => Observe(load => load.Active), "{job}",
            "Jobs optimising now, per engine silo.");
        Meter.CreateObservableUpDownCounter("sair.engine.queue_depth", () => Observe(load => load.Queued), "{job}",
            "Jobs waiting for an engine slot, per engine silo.");
    }

    /// <summary>Publishes an engine silo's load through the gauges until the returned handle is disposed.</summary>
    public static IDisposable TrackEngine(string siloName, Func<(int Active, int Queued)> load)
    {
        EngineLoads[siloName] = load;
        return new Untrack(siloName, load);
    }

    internal static TagList PresetTags(string preset) => new() { { GridTelemetry.PresetTag, preset } };

    internal static TagList OutcomeTags(string preset, string outcome) => new() { { GridTelemetry.PresetTag, preset }, { GridTelemetry.OutcomeTag, outcome } };

    private static IEnumerable<Measurement<int>> Observe(Func<(int Active, int Queued), int> pick) =>
        EngineLoads.Select(pair => new Measurement<int>(pick(pair.Value()), new KeyValuePair<string, object?>(GridTelemetry.SiloTag, pair.Key)));

    private sealed class Untrack(string siloName, Func<(int Active, int Queued)> load) : IDisposable
    {
        public void Dispose() => EngineLoads.TryRemove(new KeyValuePair<string, Func<(int, int)>>(siloName, load));
    }
}
