using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Telemetry;

namespace Sair.Grains.Tests.Telemetry;

/// <summary>One trace from the client's call through the album and its jobs down to the engine worker's runs.</summary>
public sealed class GridTracingTests(SingleEngineGridFixture fixture) : IClassFixture<SingleEngineGridFixture>, IDisposable
{
    private const string ClientSourceName = "Sair.Tests.Client";
    private static readonly ActivitySource Client = new(ClientSourceName);
    private readonly ConcurrentQueue<Activity> _finished = new();
    private readonly ActivityListener _listener = new();

    private GridCluster Grid => fixture.Grid;

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Engine_runs_of_an_album_belong_to_the_trace_of_the_client_call_that_submitted_it()
    {
        _listener.ShouldListenTo = source => source.Name is GridTelemetry.Name or ClientSourceName
            || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal);
        _listener.Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded;
        _listener.ActivityStopped = _finished.Enqueue;
        ActivitySource.AddActivityListener(_listener);

        const string album = "traced";
        string[] photos = [$"{album}/0.png", $"{album}/1.png"];
        foreach (var photo in photos)
        {
            await Grid.Images.PutAsync(photo, Encoding.UTF8.GetBytes("face:ada:1"), default);
        }

        await Grid.Images.PutAsync($"{album}/ref.png", Encoding.UTF8.GetBytes("aligned:ada"), default);
        var grain = Grid.Client.GetGrain<IAlbumGrain>(album);
        ActivityTraceId trace;
        using (var submit = Client.StartActivity("submit album"))
        {
            trace = submit!.TraceId;
            await grain.SubmitAsync(new AlbumSpec([.. photos], ReferenceSelection.FromPaths($"{album}/ref.png"),
                new RestorationOptions("paper", 8, null, 0, 1, 4), $"{album}/out"));
        }

        await Eventually.WaitAsync(
            () => Task.FromResult(_finished.Count(a => a.OperationName == "sair.job.run" && a.TraceId == trace)),
            runs => runs == photos.Length, TimeSpan.FromSeconds(20), "both engine runs in the client's trace");
        Assert.All(_finished.Where(a => a.OperationName == "sair.job.run" && a.TraceId == trace), run =>
        {
            Assert.Equal("completed", run.GetTagItem(GridTelemetry.OutcomeTag));
            Assert.StartsWith($"{album}/", (string)run.GetTagItem("sair.job.id")!);
        });
    }
}
