using System.Net;
using System.Net.Sockets;
using Sair.Client.Grid;

namespace Sair.Client.Tests.Grid;

/// <summary>
/// The launcher of the local silo, with a shell script standing in for Sair.Silo (SAIR_SILO) and a listener of this
/// test standing in for its gateway: start, reuse, status, stop, and a silo that dies while starting.
/// </summary>
public sealed class LocalSiloTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sair-silo-").FullName;

    public LocalSiloTests()
    {
        Home = new SairHome(Path.Combine(_folder, "home"));
    }

    private SairHome Home { get; }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("SAIR_SILO", null);
        Environment.SetEnvironmentVariable("SAIR_GATEWAY_PORT", null);
        Environment.SetEnvironmentVariable("SAIR_SILO_PORT", null);
        Environment.SetEnvironmentVariable("SAIR_HEALTH_PORT", null);
        Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData("SAIR_SILO_PORT")]
    [InlineData("SAIR_GATEWAY_PORT")]
    [InlineData("SAIR_HEALTH_PORT")]
    public async Task A_port_another_program_holds_is_refused_before_anything_starts(string variable)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // Another home's silo on a port this one would take: its gateway answers, so without the check this client
        // would have gone on with the other silo while its own failed to bind.
        using var otherSilo = new TcpListener(IPAddress.Loopback, 0);
        otherSilo.Start();
        var port = ((IPEndPoint)otherSilo.LocalEndpoint).Port;
        var marker = Path.Combine(_folder, "started");
        UseFakeSilo($"#!/bin/sh\ntouch '{marker}'\nexec sleep 60\n", FreePort.Next());
        Environment.SetEnvironmentVariable(variable, port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var error = await Assert.ThrowsAsync<GridUnavailableException>(() => new LocalSilo(Home).EnsureRunningAsync(null, _ => { }, CancellationToken.None));

        Assert.Contains($"Port {port} is already in use", error.Message, StringComparison.Ordinal);
        Assert.Contains($"other ports: {variable},", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "the silo was started although its port was taken");
        Assert.False(File.Exists(Home.SiloStateFile));
    }

    [Fact]
    public async Task A_started_silo_is_reused_and_stopped()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // The fake silo's gateway: opened once the fake has started, as a real silo's is (a port held before the start
        // is another program's, and refused).
        var port = FreePort.Next();
        var marker = Path.Combine(_folder, "started");
        UseFakeSilo($"#!/bin/sh\ntouch '{marker}'\necho \"role=$Sair__Silo__Role images=$Sair__Silo__ImageRoot\"\nexec sleep 60\n", port);
        using var gateway = new TcpListener(IPAddress.Loopback, port);
        var opened = Task.Run(async () =>
        {
            await Eventually(() => File.Exists(marker));
            gateway.Start();
        });
        var silo = new LocalSilo(Home);

        var started = await silo.EnsureRunningAsync(null, _ => { }, CancellationToken.None);
        await opened;
        var again = await silo.EnsureRunningAsync(null, _ => { }, CancellationToken.None);

        Assert.Equal(started.ProcessId, again.ProcessId);
        Assert.Equal(started, silo.Running());
        await Eventually(() => File.ReadAllText(Home.SiloLog).Contains("role=engine", StringComparison.Ordinal));
        Assert.Contains($"images={Home.Images}", File.ReadAllText(Home.SiloLog), StringComparison.Ordinal);
        await Assert.ThrowsAsync<GridUnavailableException>(() =>
            silo.EnsureRunningAsync(new EngineFiles(Path.Combine(_folder, "other.pt"), null), _ => { }, CancellationToken.None));

        Assert.True(await silo.StopAsync(CancellationToken.None));
        Assert.Null(silo.Running());
        Assert.False(await silo.StopAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Each_start_has_a_log_of_its_own_and_three_earlier_ones_are_kept()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var silo = new LocalSilo(Home);
        for (var run = 1; run <= 5; run++)
        {
            UseFakeSilo($"#!/bin/sh\necho 'start {run}' >&2\nexit 3\n", port: 1);
            await Assert.ThrowsAsync<GridUnavailableException>(() => silo.EnsureRunningAsync(null, _ => { }, CancellationToken.None));
        }

        Assert.Contains("start 5", File.ReadAllText(Home.SiloLog), StringComparison.Ordinal);
        Assert.Equal(["start 4", "start 3", "start 2"], Enumerable.Range(1, 3).Select(n => File.ReadAllText($"{Home.SiloLog}.{n}").Trim()));
        Assert.False(File.Exists($"{Home.SiloLog}.4"));
    }

    [Fact]
    public async Task A_pid_file_naming_another_process_is_not_trusted_and_that_process_is_never_signalled()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // The silo died and its pid went to another program (here: a sleep this test started): same pid, other start time.
        using var stranger = System.Diagnostics.Process.Start("sleep", "60");
        try
        {
            Directory.CreateDirectory(Home.Root);
            var stale = new LocalSiloState(stranger.Id, 1, 2, "/nowhere/Sair.Silo", null, null, DateTimeOffset.UtcNow, 3)
            {
                ProcessStartTime = stranger.StartTime.ToUniversalTime().AddMinutes(-5),
            };
            File.WriteAllText(Home.SiloStateFile, System.Text.Json.JsonSerializer.Serialize(stale));
            var silo = new LocalSilo(Home);

            Assert.Null(silo.Running());
            Assert.False(File.Exists(Home.SiloStateFile));
            File.WriteAllText(Home.SiloStateFile, System.Text.Json.JsonSerializer.Serialize(stale));
            Assert.False(await silo.StopAsync(CancellationToken.None));
            await Task.Delay(200);
            Assert.False(stranger.HasExited, "sair silo stop signalled a process that is not its silo");

            // An older state file without a start time: trusted only when the process is a Sair.Silo.
            File.WriteAllText(Home.SiloStateFile, System.Text.Json.JsonSerializer.Serialize(stale with { ProcessStartTime = null }));
            Assert.Null(silo.Running());
        }
        finally
        {
            stranger.Kill();
        }
    }

    [Fact]
    public async Task A_silo_that_dies_while_starting_is_reported_with_its_log()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        UseFakeSilo("#!/bin/sh\necho 'no generator checkpoint at /models/g.pt' >&2\nexit 3\n", port: 1);
        var silo = new LocalSilo(Home);

        var error = await Assert.ThrowsAsync<GridUnavailableException>(() => silo.EnsureRunningAsync(null, _ => { }, CancellationToken.None));

        Assert.Contains("exited while starting", error.Message, StringComparison.Ordinal);
        Assert.Contains("no generator checkpoint", error.Message, StringComparison.Ordinal);
        Assert.Null(silo.Running());
    }

    [Fact]
    public void A_missing_silo_executable_says_how_to_get_one()
    {
        Environment.SetEnvironmentVariable("SAIR_SILO", Path.Combine(_folder, "nowhere", "Sair.Silo"));

        var error = Assert.Throws<GridUnavailableException>(LocalSilo.FindExecutable);

        Assert.Contains("dotnet build src/Sair.Silo", error.Message, StringComparison.Ordinal);
        Assert.Contains("--cluster", error.Message, StringComparison.Ordinal);
    }

    private void UseFakeSilo(string script, int port)
    {
        var path = Path.Combine(_folder, "Sair.Silo");
        File.WriteAllText(path, script);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Environment.SetEnvironmentVariable("SAIR_SILO", path);
        Environment.SetEnvironmentVariable("SAIR_GATEWAY_PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Free silo and health ports, so a real local silo on this machine's default ports does not stop the fake one.
        Environment.SetEnvironmentVariable("SAIR_SILO_PORT", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Environment.SetEnvironmentVariable("SAIR_HEALTH_PORT", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }
}
