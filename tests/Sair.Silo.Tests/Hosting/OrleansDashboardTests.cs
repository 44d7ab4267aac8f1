using System.Net;
using System.Net.Sockets;
using Sair.Silo.Hosting;
using Sair.Silo.Tests.Support;

namespace Sair.Silo.Tests.Hosting;

/// <summary>
/// The Orleans Dashboard on a real coordinator silo process: served on its own port when Sair:Dashboard:Enabled is
/// true, absent (no listener, nothing on the health port) by default.
/// </summary>
public sealed class OrleansDashboardTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _data = Directory.CreateTempSubdirectory("sair-dashboard-silo-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task An_enabled_dashboard_serves_its_page_and_cluster_data_on_its_own_port_only()
    {
        var port = FreePort.Next();
        var environment = SiloEnvironment.Local(_data, $"dashboard-{Guid.NewGuid():N}")
            .Set(SairDashboardOptions.Section, nameof(SairDashboardOptions.Enabled), "true")
            .Set(SairDashboardOptions.Section, nameof(SairDashboardOptions.Port), port.ToString());
        await using var silo = SiloProcess.Start(environment.Variables);
        await silo.WaitReadyAsync(StartTimeout);

        using var page = await Http.GetAsync($"http://127.0.0.1:{port}/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        // The page's data: the cluster's silos, this one active once the dashboard grain has collected (every second).
        var counters = await RetryAsync(async () =>
        {
            using var response = await Http.GetAsync($"http://127.0.0.1:{port}/DashboardCounters");
            var body = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : null;
            return body?.Contains("\"totalActiveHostCount\":1", StringComparison.Ordinal) == true ? body : null;
        });
        Assert.Contains("\"hosts\":[{", counters);

        // Not on the health port, which the NetworkPolicy admits from outside.
        Assert.Equal(HttpStatusCode.NotFound, (await silo.GetAsync("/DashboardCounters")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.GetAsync("/index.html")).Status);
        Assert.Equal(HttpStatusCode.OK, (await silo.GetAsync(SairHealthOptions.ReadinessPath)).Status);
    }

    [Fact]
    public async Task By_default_no_dashboard_is_served()
    {
        var environment = SiloEnvironment.Local(_data, $"dashboard-{Guid.NewGuid():N}");
        // The dashboard's default port: closed before the silo starts, it must stay closed (another process on this
        // machine may hold it, in which case only the HTTP checks below are meaningful).
        var freeBefore = await RefusesAsync(SairDashboardOptions.DefaultPort);
        await using var silo = SiloProcess.Start(environment.Variables);
        await silo.WaitReadyAsync(StartTimeout);

        Assert.Equal(HttpStatusCode.NotFound, (await silo.GetAsync("/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.GetAsync("/index.html")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.GetAsync("/DashboardCounters")).Status);
        if (freeBefore)
        {
            Assert.True(await RefusesAsync(SairDashboardOptions.DefaultPort), "something listens on the dashboard's port with the dashboard off");
        }
    }

    private static async Task<bool> RefusesAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }

    private static async Task<string> RetryAsync(Func<Task<string?>> attempt)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (await attempt() is { } result)
            {
                return result;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the dashboard never answered with its counters");
            }

            await Task.Delay(500);
        }
    }
}
