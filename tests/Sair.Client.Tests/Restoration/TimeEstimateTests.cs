using System.Net;
using Sair.Client.Restoration;
using Sair.Client.Tests.Support;
using Sair.Grains.Placement;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>Before a run, the CLI says how long a face takes, from what the engine silos measured.</summary>
[Collection(ClientGridCollection.Name)]
public sealed class TimeEstimateTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-estimate-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static EngineLoad Load(int port, double? withIdentity, double? without, int capacity = 2) =>
        new(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1), 0, 0, capacity, DateTimeOffset.UtcNow, withIdentity, without);

    [Fact]
    public void The_estimate_multiplies_the_silos_measured_seconds_per_iteration_and_names_what_it_measured()
    {
        Assert.Null(TimeEstimate.Describe([], 400, identity: true));
        Assert.Contains("not measured yet", TimeEstimate.Describe([Load(1, null, 0.01)], 400, identity: true));

        var line = TimeEstimate.Describe([Load(1, 0.1, 0.05), Load(2, 0.2, null)], 400, identity: true)!;

        // Mean of the two silos' 0.1 and 0.2 s × 400 iterations = 60 s; both silos' slots run at once.
        Assert.Contains("about 60 s", line, StringComparison.Ordinal);
        Assert.Contains("0.150 s measured with the identity term", line, StringComparison.Ordinal);
        Assert.Contains("4 face(s) run at once", line, StringComparison.Ordinal);
        Assert.Contains("about 20 s", TimeEstimate.Describe([Load(1, 0.1, 0.05)], 400, identity: false), StringComparison.Ordinal);
        Assert.Contains("about 1.7 h", TimeEstimate.Describe([Load(1, 3, null)], 2000, identity: true), StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_face_has_run_the_next_restore_prints_its_measured_time_per_face()
    {
        var photo = TestImages.SamplePhoto("John_Simm-1.jpg");
        using var cli = new Support.Cli(grid.Connector);
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("restore", "-i", photo, "-o", Path.Combine(_work, "first"), "--no-identity",
            "--aligned", "--iterations", "20"));

        // The silo publishes its load (and measurement) every 100 ms in the fixture. The same command again would pick
        // up the first run's album: --fresh computes it anew, so the estimate is printed.
        await Task.Delay(500);
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("restore", "-i", photo, "-o", Path.Combine(_work, "second"), "--no-identity",
            "--aligned", "--iterations", "20", "--fresh"));

        log.WriteLine(cli.Output);
        Assert.Matches(@"Time per face: about \d+ s \(20 iterations × \d\.\d{3} s measured without identity", cli.Output.ReplaceLineEndings(" "));
    }
}
