using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Telemetry;

namespace Sair.Grains.Tests.Telemetry;

/// <summary>
/// The grid's metrics as a listener sees them while real job grains run on the fake engine. Each test uses a preset
/// of its own that no other test of this project runs (the grain API takes only the contract's presets), so
/// measurements of other tests running jobs in the same process never mix in.
/// </summary>
public sealed class GridTelemetryTests(SingleEngineGridFixture fixture) : IClassFixture<SingleEngineGridFixture>, IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

    private GridCluster Grid => fixture.Grid;

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task A_completed_job_counts_submission_start_completion_every_iteration_and_its_duration()
    {
        var preset = Listen(RestorationPresets.Official);
        await RunAsync("telemetry-ok", "face:ada:1", preset, iterations: 12);

        Assert.Equal(1, Sum("sair.jobs.submitted", preset));
        Assert.Equal(1, Sum("sair.jobs.started", preset));
        Assert.Equal(1, Sum("sair.jobs.completed", preset));
        Assert.Equal(0, Sum("sair.jobs.failed", preset));
        Assert.Equal(12, Sum("sair.engine.iterations", preset));
        var duration = Assert.Single(Of("sair.job.duration", preset));
        Assert.Equal("completed", duration.Tags[GridTelemetry.OutcomeTag]);
        Assert.InRange(duration.Value, 0.0, 60.0);
    }

    [Fact]
    public async Task A_failed_job_counts_as_failed_and_no_metric_carries_the_job_id()
    {
        var preset = Listen(RestorationPresets.PaperBackProjected);
        await RunAsync("telemetry-fail", "FAIL:no face", preset, iterations: 5);

        Assert.Equal(1, Sum("sair.jobs.failed", preset));
        Assert.Equal(0, Sum("sair.jobs.completed", preset));
        Assert.Equal("failed", Assert.Single(Of("sair.job.duration", preset)).Tags[GridTelemetry.OutcomeTag]);
        Assert.DoesNotContain(_measurements, m => m.Tags.Values.Any(v => v?.ToString()?.Contains("telemetry-fail") == true));
    }

    [Fact]
    public void The_engine_gauges_report_each_engine_silo()
    {
        Listen();
        _listener.RecordObservableInstruments();

        var active = _measurements.Where(m => m.Instrument == "sair.engine.active_jobs").ToList();
        // Silo_1 is the fixture's engine silo; the coordinator runs no worker and reports nothing.
        Assert.Contains(active, m => Equals(m.Tags[GridTelemetry.SiloTag], "Silo_1"));
        Assert.DoesNotContain(active, m => Equals(m.Tags[GridTelemetry.SiloTag], GridCluster.CoordinatorSilo));
        Assert.Contains(_measurements, m => m.Instrument == "sair.engine.queue_depth");
    }

    [Fact]
    public async Task A_prior_training_job_counts_every_image_it_shows_and_records_each_new_ffd_for_its_silo()
    {
        Listen();
        var work = Directory.CreateTempSubdirectory("sair-telemetry-training-").FullName;
        try
        {
            var spec = Sair.Grains.Training.TrainingJobSpec.Prior(Directory.CreateDirectory(Path.Combine(work, "data")).FullName, Path.Combine(work, "out")) with
            {
                TotalImages = 80, Batch = 4, FfdEvery = 5, CheckpointEvery = 5,
            };
            var job = Grid.Client.GetGrain<Sair.Grains.Training.ITrainingJobGrain>("telemetry-training");
            await job.StartAsync(spec);
            await foreach (var _ in job.WatchAsync())
            {
            }

            // Other tests of this process may train too: at least this job's 80 images, each counted once.
            Assert.True(_measurements.Where(m => m.Instrument == "sair.training.images").Sum(m => m.Value) >= 80);
            _listener.RecordObservableInstruments();
            var ffd = _measurements.Where(m => m.Instrument == "sair.training.ffd" && Equals(m.Tags[GridTelemetry.SiloTag], "Silo_1")).ToList();
            Assert.NotEmpty(ffd);
            Assert.Equal(100.0 / 20, ffd[^1].Value);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private string Listen(string? preset = null)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == GridTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
        return preset ?? "";
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _measurements.Enqueue((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));

    private IEnumerable<(string Instrument, double Value, Dictionary<string, object?> Tags)> Of(string instrument, string preset) =>
        _measurements.Where(m => m.Instrument == instrument && Equals(m.Tags.GetValueOrDefault(GridTelemetry.PresetTag), preset));

    private double Sum(string instrument, string preset) => Of(instrument, preset).Sum(m => m.Value);

    private async Task RunAsync(string id, string photo, string preset, int iterations)
    {
        await Grid.Images.PutAsync($"in/{id}.png", Encoding.UTF8.GetBytes(photo), default);
        await Grid.Images.PutAsync($"refs/{id}.png", Encoding.UTF8.GetBytes("aligned:ada"), default);
        var job = Grid.Client.GetGrain<IRestorationJobGrain>(id);
        await job.StartAsync(new JobSpec($"in/{id}.png", $"out/{id}.png", ReferenceSelection.FromPaths($"refs/{id}.png"),
            new RestorationOptions(preset, iterations, null, 0, 1, 100)));
        await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(20), $"job {id} to finish");
        // The worker records the duration just after its final report reaches the grain.
        await Eventually.WaitAsync(() => Task.FromResult(Of("sair.job.duration", preset).Count()), n => n > 0, TimeSpan.FromSeconds(5), "the duration");
    }
}
