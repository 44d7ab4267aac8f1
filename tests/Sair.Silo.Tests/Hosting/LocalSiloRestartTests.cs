using System.Net;
using Sair.Silo.Hosting;
using Sair.Silo.Tests.Support;

namespace Sair.Silo.Tests.Hosting;

/// <summary>The embedded grid (storage provider "local") as a real process: probes, metrics, and state across a restart.</summary>
public sealed class LocalSiloRestartTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly string _data = Directory.CreateTempSubdirectory("sair-local-silo-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task Album_state_written_before_a_restart_is_back_after_it()
    {
        var environment = SiloEnvironment.Local(_data, $"local-{Guid.NewGuid():N}");
        const string album = "restart-album";

        IReadOnlyList<(int, string, string)> before;
        await using (var silo = SiloProcess.Start(environment.Variables))
        {
            await silo.WaitReadyAsync(StartTimeout);
            await using (var grid = await GridClient.ConnectLocalAsync(environment.GatewayPort, environment.ServiceId, environment.ClusterId))
            {
                before = await AlbumProbe.SubmitAsync(grid.Client, album);
            }

            await silo.StopAsync();
        }

        Assert.Equal(3, before.Count);
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(_data, "grains"), "*.state", SearchOption.AllDirectories));

        await using (var silo = SiloProcess.Start(environment.Variables))
        {
            await silo.WaitReadyAsync(StartTimeout);
            await using var grid = await GridClient.ConnectLocalAsync(environment.GatewayPort, environment.ServiceId, environment.ClusterId);
            Assert.Equal(before, await AlbumProbe.RecordedAsync(grid.Client, album));
        }
    }

    [Fact]
    public async Task Probes_and_the_metrics_endpoint_answer_on_the_health_port()
    {
        var environment = SiloEnvironment.Local(_data, $"local-{Guid.NewGuid():N}");
        await using var silo = SiloProcess.Start(environment.Variables);
        await silo.WaitReadyAsync(StartTimeout);

        Assert.Equal(HttpStatusCode.OK, (await silo.GetAsync(SairHealthOptions.LivenessPath)).Status);
        Assert.Equal(HttpStatusCode.OK, (await silo.GetAsync(SairHealthOptions.ReadinessPath)).Status);

        // Once the silo's face nets have loaded, readiness names the CPU kernels its self-check chose.
        var deadline = DateTime.UtcNow + StartTimeout;
        var readiness = "";
        while (!readiness.Contains("cpu kernels: ", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            readiness = (await silo.GetAsync(SairHealthOptions.ReadinessPath)).Body;
        }

        Assert.Matches(@"^ready\ncpu kernels: (default|default-im2col|avx2|sse41|no-onednn) — ", readiness);

        // A coordinator runs no jobs, so the grid's own series stay empty here; the scrape must carry Orleans' meter
        // and the silo's resource attributes (role) that dashboards group by.
        var (status, metrics) = await silo.GetAsync(SairHealthOptions.MetricsPath);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("otel_scope_name=\"" + SiloHostingExtensions.OrleansMeterName + "\"", metrics);
        Assert.Contains("sair_silo_role=\"coordinator\"", metrics);
    }
}
