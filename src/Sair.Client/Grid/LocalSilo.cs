using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Sair.Grains;
using Sair.Grains.Placement;

namespace Sair.Client.Grid;

/// <summary>What the client remembers about the silo it started (SAIR_HOME/silo.json).</summary>
public sealed record LocalSiloState(int ProcessId, int SiloPort, int GatewayPort, string Executable, string? Generator, string? IdentityNet, DateTimeOffset StartedAt, int? HealthPort = null)
{
    /// <summary>
    /// When the operating system started the silo's process: the pid file is trusted only while the process with that
    /// pid started then (a pid reused by another program after the silo died is not the silo, and is never signalled).
    /// </summary>
    public DateTimeOffset? ProcessStartTime { get; init; }
}

/// <summary>
/// The embedded default grid: one Sair.Silo process with the engine role on this machine, sharing the image store in
/// SAIR_HOME with the client. The client starts it on first use and leaves it running, so later commands skip the
/// engine's start-up; <c>sair silo stop</c> ends it. The client itself never loads libtorch: only the silo does.
/// </summary>
public sealed class LocalSilo(SairHome home)
{
    /// <summary>Ports away from Orleans' defaults (11111/30000), so a developer's own silo does not collide.</summary>
    public const int DefaultSiloPort = 22111;

    public const int DefaultGatewayPort = 31000;

    /// <summary>The local silo's health and metrics port (not the silo default 8080, which other servers often hold).</summary>
    public const int DefaultHealthPort = 31080;

    /// <summary>
    /// Jobs the local silo runs at once, and optimises in one batched pass, with the embedded demo prior: measured best
    /// of B = 1, 4, 8 by <c>bench album --batches</c> (1.96× the photos per minute of B = 1 at 8).
    /// </summary>
    public const int EmbeddedPriorBatch = 8;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The running silo's state, or null when none is running (a stale state file is removed).</summary>
    public LocalSiloState? Running()
    {
        if (!File.Exists(home.SiloStateFile))
        {
            return null;
        }

        LocalSiloState? state;
        try
        {
            state = JsonSerializer.Deserialize<LocalSiloState>(File.ReadAllText(home.SiloStateFile));
        }
        catch (JsonException)
        {
            state = null;
        }

        if (state is not null && IsAlive(state))
        {
            return state;
        }

        File.Delete(home.SiloStateFile);
        return null;
    }

    /// <summary>Returns the running silo, starting one (and waiting for its gateway) when none runs.</summary>
    public async Task<LocalSiloState> EnsureRunningAsync(EngineFiles? engine, Action<string> say, CancellationToken cancellationToken)
    {
        if (Running() is { } running)
        {
            if (engine is { IsEmpty: false } && (engine.Generator != running.Generator || engine.IdentityNet != running.IdentityNet))
            {
                throw new GridUnavailableException(
                    $"The local silo (pid {running.ProcessId}) runs with other engine files (generator: {running.Generator ?? "its default"}). " +
                    "Run 'sair silo stop' first, then this command again.");
            }

            await WaitForGatewayAsync(running, cancellationToken);
            return running;
        }

        var executable = FindExecutable();
        Directory.CreateDirectory(home.Images);
        var siloPort = PortFromEnvironment("SAIR_SILO_PORT", DefaultSiloPort);
        var gatewayPort = PortFromEnvironment("SAIR_GATEWAY_PORT", DefaultGatewayPort);
        var healthPort = PortFromEnvironment("SAIR_HEALTH_PORT", DefaultHealthPort);
        // No silo of this home runs, so a port held now belongs to another program — often the local silo of another
        // SAIR_HOME — which would make the new silo fail at start while this client talked to the other one's gateway.
        foreach (var (port, variable) in new[] { (siloPort, "SAIR_SILO_PORT"), (gatewayPort, "SAIR_GATEWAY_PORT"), (healthPort, "SAIR_HEALTH_PORT") })
        {
            if (!PortIsFree(port))
            {
                throw new GridUnavailableException(
                    $"Port {port} is already in use, so a local silo for {home.Root} cannot start: another local silo (of another SAIR_HOME) " +
                    $"or another program holds it. Stop that silo (`sair silo stop` with its SAIR_HOME), or give this one other ports: " +
                    $"{variable}, and likewise SAIR_SILO_PORT, SAIR_GATEWAY_PORT and SAIR_HEALTH_PORT (defaults {DefaultSiloPort}, {DefaultGatewayPort}, {DefaultHealthPort}).");
            }
        }

        home.RotateSiloLog();
        say($"Starting a local silo ({executable}); its log is {home.SiloLog}");
        var process = Start(executable, siloPort, gatewayPort, healthPort, engine);
        var state = new LocalSiloState(process.Id, siloPort, gatewayPort, executable, engine?.Generator, engine?.IdentityNet, DateTimeOffset.UtcNow, healthPort)
        {
            ProcessStartTime = StartTimeOf(process),
        };
        await File.WriteAllTextAsync(home.SiloStateFile, JsonSerializer.Serialize(state), cancellationToken);
        await WaitForGatewayAsync(state, cancellationToken);
        return state;
    }

    /// <summary>
    /// The silo's readiness probe as it answers now (first line: ready or why not; then details such as the CPU
    /// kernels it chose), or null when it does not answer.
    /// </summary>
    public static async Task<string?> ReadinessAsync(LocalSiloState state, CancellationToken cancellationToken)
    {
        if (state.HealthPort is not { } port)
        {
            return null;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/readyz", cancellationToken);
            return (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Asks the silo to shut down (SIGTERM), waits, then kills it if it does not; false when none ran.</summary>
    public async Task<bool> StopAsync(CancellationToken cancellationToken)
    {
        if (Running() is not { } state)
        {
            return false;
        }

        using var process = Process.GetProcessById(state.ProcessId);
        if (!OperatingSystem.IsWindows())
        {
            using var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", state.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
            term?.WaitForExit();
        }

        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
        }

        File.Delete(home.SiloStateFile);
        return true;
    }

    /// <summary>
    /// SAIR_SILO (the Sair.Silo executable or .dll), else a <c>silo/</c> folder beside the client (a published
    /// bundle), else the sibling project's build output (src/Sair.Silo/bin/&lt;config&gt;/&lt;tfm&gt;).
    /// </summary>
    public static string FindExecutable()
    {
        var candidates = new List<string>();
        var configured = Environment.GetEnvironmentVariable("SAIR_SILO");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            candidates.Add(Path.GetFullPath(configured));
        }
        else
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            candidates.Add(Path.Combine(here.FullName, "silo", SiloFileName));
            // src/Sair.Client/bin/<config>/<tfm>/ -> src/Sair.Silo/bin/<config>/<tfm>/
            if (here.Parent?.Parent?.Parent?.Parent is { } src)
            {
                candidates.Add(Path.Combine(src.FullName, "Sair.Silo", "bin", here.Parent.Name, here.Name, SiloFileName));
            }
        }

        return candidates.FirstOrDefault(File.Exists) ?? throw new GridUnavailableException(
            $"No Sair.Silo executable found (looked at {string.Join(", ", candidates)}). " +
            "Build it (dotnet build src/Sair.Silo), set SAIR_SILO to its path, or point at a running cluster with --cluster.");
    }

    private static string SiloFileName => OperatingSystem.IsWindows() ? "Sair.Silo.exe" : "Sair.Silo";

    private Process Start(string executable, int siloPort, int gatewayPort, int healthPort, EngineFiles? engine)
    {
        var isDll = executable.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var start = new ProcessStartInfo
        {
            UseShellExecute = false,
            // The silo reads its appsettings.json from its content root, the working directory.
            WorkingDirectory = Path.GetDirectoryName(executable)!,
        };
        if (OperatingSystem.IsWindows())
        {
            start.FileName = isDll ? "dotnet" : executable;
            if (isDll)
            {
                start.ArgumentList.Add(executable);
            }

            start.CreateNoWindow = true;
        }
        else
        {
            // A new session, so Ctrl+C in this terminal does not stop the silo; output goes to the log, not to a
            // pipe that would break when the client exits.
            start.FileName = "/bin/sh";
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("exec setsid \"$@\" </dev/null >>\"$SAIR_SILO_LOG\" 2>&1");
            start.ArgumentList.Add("sh");
            if (isDll)
            {
                start.ArgumentList.Add("dotnet");
            }

            start.ArgumentList.Add(executable);
            start.Environment["SAIR_SILO_LOG"] = home.SiloLog;
        }

        void Set(string key, string value) => start.Environment[SettingKeys.EnvironmentVariable(key)] = value;
        Set(SettingKeys.SiloRole, SiloMetadataKeys.EngineRole);
        Set(SettingKeys.SiloImageRoot, home.Images);
        Set(SettingKeys.StorageDataRoot, home.State);
        Set(SettingKeys.HealthPort, healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(SettingKeys.SiloPort, siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(SettingKeys.GatewayPort, gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Without --generator the silo takes its embedded default generator.
        Set(SettingKeys.EngineGeneratorPath, engine?.Generator is { } generator ? Path.GetFullPath(generator) : SettingKeys.EmbeddedGenerator);
        if (engine?.Generator is null)
        {
            // One face's pass through the 64 px demo prior is too small to keep the cores busy: optimising up to
            // EmbeddedPriorBatch faces per pass restored an album about twice as fast (docs/benchmarks.md, "Batched restoration").
            // A generator of the user's own (256 px and up) keeps one face at a time, where batching measured no gain.
            // Either setting already in the environment wins (Sair__Engine__BatchSize=1 gives runs that repeat bit for bit).
            var batch = EmbeddedPriorBatch.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var key in new[] { SettingKeys.EngineMaxConcurrentJobs, SettingKeys.EngineBatchSize })
            {
                if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SettingKeys.EnvironmentVariable(key))))
                {
                    Set(key, batch);
                }
            }
        }
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SettingKeys.EnvironmentVariable(SettingKeys.EngineReferenceStore))))
        {
            // A restarted local silo finds its references' inversions and tuned generators here instead of computing them again.
            Set(SettingKeys.EngineReferenceStore, home.References);
        }
        if (engine?.IdentityNet is { } identity)
        {
            Set(SettingKeys.EngineIdentityNet, IdentityNetOption.Resolve(identity));
        }

        return Process.Start(start) ?? throw new GridUnavailableException($"Could not start {executable}.");
    }

    private async Task WaitForGatewayAsync(LocalSiloState state, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (!IsAlive(state))
            {
                File.Delete(home.SiloStateFile);
                throw new GridUnavailableException($"The local silo exited while starting. The end of {home.SiloLog}:{Environment.NewLine}{LogTail()}");
            }

            if (await GatewayAnswersAsync(state.GatewayPort, cancellationToken))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new GridUnavailableException(
                    $"The local silo (pid {state.ProcessId}) did not open its gateway on port {state.GatewayPort} within {StartTimeout.TotalMinutes:0} minutes; see {home.SiloLog}.");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private static async Task<bool> GatewayAnswersAsync(int port, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private string LogTail()
    {
        if (!File.Exists(home.SiloLog))
        {
            return "(no log written)";
        }

        return string.Join(Environment.NewLine, File.ReadLines(home.SiloLog).TakeLast(15));
    }

    /// <summary>
    /// True while the state's process runs and is the one this state started: same pid and the same start time (a file
    /// from a sair that recorded none: a process whose command line names Sair.Silo).
    /// </summary>
    private static bool IsAlive(LocalSiloState state)
    {
        try
        {
            using var process = Process.GetProcessById(state.ProcessId);
            if (process.HasExited)
            {
                return false;
            }

            return state.ProcessStartTime is { } recorded
                ? StartTimeOf(process) is { } actual && (actual - recorded).Duration() < TimeSpan.FromSeconds(1)
                : CommandLine(state.ProcessId).Contains("Sair.Silo", StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static DateTimeOffset? StartTimeOf(Process process)
    {
        try
        {
            return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }

    private static string CommandLine(int processId)
    {
        try
        {
            return File.ReadAllText($"/proc/{processId}/cmdline").Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>
    /// Whether <paramref name="port"/> is free: false only when binding it on every address fails because it is in use
    /// (any other failure, such as a machine without IPv6, is left to the silo to report).
    /// </summary>
    private static bool PortIsFree(int port)
    {
        try
        {
            var listener = System.Net.Sockets.Socket.OSSupportsIPv6
                ? new System.Net.Sockets.TcpListener(System.Net.IPAddress.IPv6Any, port) { Server = { DualMode = true } }
                : new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, port);
            // Connections of a silo that just stopped may linger in TIME_WAIT; only a live listener should count.
            listener.Server.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return e.SocketErrorCode != System.Net.Sockets.SocketError.AddressAlreadyInUse;
        }
    }

    private static int PortFromEnvironment(string name, int fallback)
    {
        var value = Environment.GetEnvironmentVariable(name);
        return int.TryParse(value, out var port) && port is > 0 and < 65536 ? port : fallback;
    }
}

/// <summary>The grid cannot be reached or started; the message says what to do.</summary>
public sealed class GridUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
