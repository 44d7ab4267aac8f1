using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sair.Engine.Runtime;

/// <summary>
/// One way of running libtorch's CPU kernels: oneDNN at its full instruction set, with the narrow convolutions routed
/// around it, capped, or off.
/// </summary>
/// <param name="Name">The name an operator gives in Sair:Engine:CpuKernels.</param>
/// <param name="DnnlMaxCpuIsa">The DNNL_MAX_CPU_ISA value oneDNN must find in the native environment when it first runs; null for none.</param>
/// <param name="OneDnn">Whether libtorch may send operations to oneDNN at all (off: ATen's own kernels).</param>
/// <param name="RoutesUnaligned">Whether the convolution shapes the Zen 5's default kernels get wrong (channel counts off the 16-float block, 1×1) are routed around oneDNN (<see cref="EngineConv"/>).</param>
public sealed record CpuKernelConfiguration(string Name, string? DnnlMaxCpuIsa, bool OneDnn, bool RoutesUnaligned = false)
{
    public static readonly CpuKernelConfiguration Default = new("default", null, true);
    public static readonly CpuKernelConfiguration DefaultIm2Col = new("default-im2col", null, true, RoutesUnaligned: true);
    public static readonly CpuKernelConfiguration Avx2 = new("avx2", "AVX2", true);
    public static readonly CpuKernelConfiguration Sse41 = new("sse41", "SSE41", true);
    public static readonly CpuKernelConfiguration NoOneDnn = new("no-onednn", null, false);

    /// <summary>Every configuration, default first; the guard tries the others, in this order, when the default fails.</summary>
    public static IReadOnlyList<CpuKernelConfiguration> All { get; } = [Default, DefaultIm2Col, Avx2, Sse41, NoOneDnn];

    public static CpuKernelConfiguration Parse(string name) =>
        All.FirstOrDefault(c => c.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"Unknown CPU kernel configuration '{name}': use auto (the default: self-checked), {string.Join(", ", All.Select(c => c.Name))}.", nameof(name));
}

/// <summary>What the guard decided for this process, and why, in one line for logs, probes and status.</summary>
public sealed record CpuKernelDecision(CpuKernelConfiguration Configuration, string Cpu, string Reason, bool Verified, bool NnpackEnabled)
{
    public string Summary =>
        $"cpu kernels: {Configuration.Name} — {Reason}{(NnpackEnabled ? "" : "; NNPACK off (it does not initialise on this CPU)")} [{Cpu}]";
}

/// <summary>The verdict of one configuration's probe (a child process, or this process).</summary>
/// <param name="Configuration">The configuration's name.</param>
/// <param name="Passed">Whether every check of the battery passed.</param>
/// <param name="Failure">The first check that failed, in words.</param>
/// <param name="Milliseconds">A generator-shaped step's time on these kernels (NaN when they fail).</param>
/// <param name="Worst">The passing check closest to its tolerance, as a margin indicator.</param>
/// <param name="Failures">Every check that failed, in words (the first is <paramref name="Failure"/>).</param>
public sealed record CpuKernelProbeResult(string Configuration, bool Passed, string? Failure, double Milliseconds, string? Worst = null,
    IReadOnlyList<string>? Failures = null);

/// <summary>Nothing computes right on this CPU: the engine refuses to serve rather than return wrong faces.</summary>
public sealed class CpuKernelsException(string message) : Exception(message);

/// <summary>
/// Decides, once per process and before any model runs, which CPU kernels libtorch uses: the default when the
/// <see cref="KernelBattery"/> passes on it, else the first that passes of default-im2col (the default kernels with the
/// narrow convolutions routed around oneDNN, <see cref="EngineConv"/>), avx2, sse41 and no-onednn (their order of speed
/// on real generator steps, docs/benchmarks.md); refuses when none does.
/// </summary>
/// <remarks>
/// oneDNN reads its instruction-set cap from the native environment once, so each configuration is tried in a child
/// process (Sair.KernelCheck, shipped beside every host) that starts with it set; the choice is then cached per CPU
/// and libtorch build, applied here before libtorch loads, and the battery is run once more in this process to
/// verify it. An operator can force a configuration with Sair:Engine:CpuKernels (auto is the default).
/// </remarks>
public static class CpuKernels
{
    /// <summary>The configuration key (environment Sair__Engine__CpuKernels).</summary>
    public const string SettingKey = "Sair:Engine:CpuKernels";
    public const string EnvironmentVariable = "Sair__Engine__CpuKernels";
    public const string Auto = "auto";

    /// <summary>Where decisions are cached (one file per CPU and libtorch build); unset: $XDG_CACHE_HOME/sairgrid or ~/.cache/sairgrid.</summary>
    public const string CacheVariable = "SAIR_KERNEL_CACHE";

    /// <summary>
    /// Self-test of the guard in a real process (tests only): "config[,config…]:check" makes those configurations'
    /// kernels fail that check, in the probes and in the verification; nothing is cached while it is set.
    /// </summary>
    public const string FaultVariable = "SAIR_KERNEL_SELFTEST_FAULT";

    private const string ProbeAssembly = "Sair.KernelCheck.dll";
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromMinutes(3);
    private static readonly Lock Gate = new();
    private static CpuKernelDecision? _current;

    /// <summary>The decision in force in this process; null until <see cref="Ensure"/> ran.</summary>
    public static CpuKernelDecision? Current => _current;

    /// <summary>
    /// Decides and applies the kernels for this process (the first call decides; later calls return the same
    /// decision). <paramref name="mode"/>: auto, or a configuration name; null reads Sair__Engine__CpuKernels.
    /// </summary>
    /// <exception cref="CpuKernelsException">In auto mode, when no configuration computes correct numbers.</exception>
    public static CpuKernelDecision Ensure(string? mode = null, Action<string>? log = null)
    {
        lock (Gate)
        {
            if (_current is not null)
            {
                return _current;
            }

            log ??= Console.Error.WriteLine;
            mode = string.IsNullOrWhiteSpace(mode) ? Environment.GetEnvironmentVariable(EnvironmentVariable) : mode;
            mode = string.IsNullOrWhiteSpace(mode) ? Auto : mode.Trim();
            var cpu = CpuModel();
            var auto = mode.Equals(Auto, StringComparison.OrdinalIgnoreCase);
            var options = SelfTestFault() ?? new SelectionOptions { CacheDirectory = CacheDirectory() };
            var (configuration, reason) = auto
                ? Choose(options, cpu)
                : (CpuKernelConfiguration.Parse(mode), $"forced by {SettingKey}");

            var nnpack = Apply(configuration);
            var check = KernelBattery.Run(options.FaultIn(configuration));
            var verified = check.Passed;
            if (!check.Passed && auto)
            {
                Forget(options.CacheDirectory);
                // oneDNN's cap is fixed for this process now; switching oneDNN off is the one fallback left in-process.
                NativeTorchSettings.SetOneDnnEnabled(false);
                EngineConv.SetRouting(false);
                var fallback = KernelBattery.Run(options.FaultIn(CpuKernelConfiguration.NoOneDnn));
                if (!fallback.Passed)
                {
                    throw new CpuKernelsException(
                        $"No CPU kernel configuration computes correct numbers on this CPU ({cpu}): {configuration.Name} fails " +
                        $"{check.FirstFailure} here, and with oneDNN off {fallback.FirstFailure}. The engine will not serve wrong " +
                        $"results; force a configuration with {SettingKey} only to investigate.");
                }

                (configuration, reason, verified) = (CpuKernelConfiguration.NoOneDnn,
                    $"{configuration.Name} failed {check.FirstFailure} in this process; oneDNN is off", true);
            }
            else if (!check.Passed)
            {
                reason += $"; WARNING: it fails the self-check ({check.FirstFailure}), results may be wrong";
            }
            else if (auto)
            {
                reason += $"; verified in this process ({check.Checks.Count} checks)";
            }

            _current = new CpuKernelDecision(configuration, cpu, reason, verified, nnpack);
            log(_current.Summary);
            return _current;
        }
    }

    /// <summary>How <see cref="Select"/> probes: where to cache, and (tests) a fault to inject into one configuration.</summary>
    public sealed record SelectionOptions
    {
        /// <summary>Folder for the cached decision; null: probe every time, cache nothing.</summary>
        public string? CacheDirectory { get; init; }

        /// <summary>Tests: the configurations whose probes run with <see cref="FaultyCheck"/> perturbed.</summary>
        public IReadOnlyCollection<string> FaultyConfigurations { get; init; } = [];

        /// <summary>Tests: the battery check a faulty kernel breaks (see <see cref="KernelBattery.CheckNames"/>).</summary>
        public string? FaultyCheck { get; init; }

        /// <summary>The check to break when running on <paramref name="configuration"/>, if any.</summary>
        public string? FaultIn(CpuKernelConfiguration configuration) =>
            FaultyConfigurations.Contains(configuration.Name) ? FaultyCheck : null;
    }

    private static SelectionOptions? SelfTestFault()
    {
        var value = Environment.GetEnvironmentVariable(FaultVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var parts = value.Split(':', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2)
        {
            throw new ArgumentException($"{FaultVariable} is '{value}': write configuration[,configuration…]:check.");
        }

        return new SelectionOptions
        {
            FaultyConfigurations = parts[0].Split(',', StringSplitOptions.TrimEntries).Select(n => CpuKernelConfiguration.Parse(n).Name).ToArray(),
            FaultyCheck = parts[1],
        };
    }

    /// <summary>
    /// Probes configurations in child processes: the default first, and only when it fails every other one; returns the
    /// default if it passes, else the first of the others that passes, in <see cref="CpuKernelConfiguration.All"/>'s
    /// order — default-im2col, avx2, sse41, no-onednn: their order of speed on real generator steps, measured on an Intel
    /// Xeon and an AMD Zen 5 (docs/benchmarks.md). The probe's own small step is timed and reported, but too small and noisy to choose
    /// by (on the Zen 5 it ranked no-onednn first; a 256 px generator step runs 1.8× faster with avx2).
    /// </summary>
    public static (CpuKernelConfiguration Configuration, string Reason, IReadOnlyList<CpuKernelProbeResult> Probes) Select(SelectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var probe = ProbePath()
            ?? throw new InvalidOperationException($"{ProbeAssembly} is not beside {AppContext.BaseDirectory}: the host must reference src/Sair.KernelCheck.");
        var results = new List<CpuKernelProbeResult> { RunProbe(probe, CpuKernelConfiguration.Default, options) };
        if (results[0].Passed)
        {
            return (CpuKernelConfiguration.Default, $"self-check passed ({KernelBattery.CheckNames.Count} checks)", results);
        }

        results.AddRange(CpuKernelConfiguration.All.Skip(1).Select(c => RunProbe(probe, c, options)));
        var passing = results.Where(r => r.Passed).ToList();
        var failed = string.Join("; ", results.Where(r => !r.Passed).Select(r => $"{r.Configuration} fails {r.Failure}"));
        if (passing.Count == 0)
        {
            throw new CpuKernelsException(
                $"No CPU kernel configuration computes correct numbers on this CPU ({CpuModel()}): {failed}. The engine will not " +
                $"serve wrong results; force a configuration with {SettingKey} only to investigate.");
        }

        var best = passing[0];
        var timings = string.Join(", ", passing.Select(r => $"{r.Configuration} {r.Milliseconds.ToString("F1", CultureInfo.InvariantCulture)} ms"));
        return (CpuKernelConfiguration.Parse(best.Configuration),
            $"{failed}; {best.Configuration} is the first that passes in the order of speed on real generator steps (default-im2col, avx2, sse41, no-onednn; " +
            $"probe step: {timings})", results);
    }

    /// <summary>
    /// The child process's work (Sair.KernelCheck): <c>--probe NAME [--fault CHECK]</c> applies one configuration,
    /// runs the battery and prints a <see cref="CpuKernelProbeResult"/> as JSON; <c>--decide [MODE]</c> makes and
    /// prints this machine's decision (CI prints it before the tests).
    /// </summary>
    public static int RunProbe(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            switch (args)
            {
                case ["--probe", var name, ..]:
                    var configuration = CpuKernelConfiguration.Parse(name);
                    lock (Gate)
                    {
                        var nnpack = Apply(configuration);
                        _current = new CpuKernelDecision(configuration, CpuModel(), "probe", false, nnpack);
                    }

                    var fault = args is [_, _, "--fault", var check] ? check : null;
                    var battery = KernelBattery.Run(fault);
                    var result = new CpuKernelProbeResult(configuration.Name, battery.Passed, battery.FirstFailure?.ToString(),
                        battery.Passed ? KernelBattery.MeasureMilliseconds() : double.NaN,
                        battery.Checks.Where(c => c.Passed).MaxBy(c => c.RelativeError / c.Tolerance)?.ToString(),
                        battery.Checks.Where(c => !c.Passed).Select(c => c.ToString()).ToArray());
                    stdout.WriteLine(JsonSerializer.Serialize(result, ProbeJson));
                    return 0;
                case ["--decide", ..]:
                    stdout.WriteLine(Ensure(args.Length > 1 ? args[1] : null, _ => { }).Summary);
                    return 0;
                default:
                    stderr.WriteLine("usage: Sair.KernelCheck --probe <default|default-im2col|avx2|sse41|no-onednn> [--fault <check>] | --decide [auto|<configuration>]");
                    return 64;
            }
        }
        catch (Exception e) when (e is CpuKernelsException or ArgumentException or InvalidOperationException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>The CPU's model name as the kernel decision reports it (e.g. "AMD EPYC 9R45").</summary>
    public static string CpuModel() =>
        CpuInfoField("model name") ?? RuntimeInformation.ProcessArchitecture.ToString();

    private static (CpuKernelConfiguration, string) Choose(SelectionOptions options, string cpu)
    {
        var cacheFile = options.CacheDirectory is { } dir ? Path.Combine(dir, $"cpu-kernels-{Fingerprint(cpu)}.json") : null;
        if (ReadCache(cacheFile) is { } cached)
        {
            return cached;
        }

        if (ProbePath() is null)
        {
            return (CpuKernelConfiguration.Default, $"no {ProbeAssembly} beside the application: the default kernels are checked in this process only");
        }

        // One process probes at a time per machine; the others wait and read its result.
        using var lockFile = cacheFile is null ? null : OpenLock(cacheFile + ".lock");
        if (ReadCache(cacheFile) is { } fresh)
        {
            return fresh;
        }

        var (configuration, reason, _) = Select(options);
        WriteCache(cacheFile, configuration, reason);
        return (configuration, reason);
    }

    /// <summary>Sets what must be in place before oneDNN first runs, loads libtorch, then the run-time switches.</summary>
    private static bool Apply(CpuKernelConfiguration configuration)
    {
        NativeTorchSettings.SetNativeEnvironment("DNNL_MAX_CPU_ISA", configuration.DnnlMaxCpuIsa);
        TorchRuntime.LoadNative();
        EngineConv.SetRouting(configuration.RoutesUnaligned);
        if (NativeTorchSettings.SetOneDnnEnabled(configuration.OneDnn) != configuration.OneDnn)
        {
            throw new InvalidOperationException("libtorch did not accept the oneDNN setting.");
        }

        var nnpack = NativeTorchSettings.NnpackAvailable();
        NativeTorchSettings.SetNnpackEnabled(nnpack);
        return nnpack;
    }

    private static CpuKernelProbeResult RunProbe(string probe, CpuKernelConfiguration configuration, SelectionOptions options)
    {
        var start = new ProcessStartInfo(DotnetHost(), [probe, "--probe", configuration.Name])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (options.FaultIn(configuration) is { } check)
        {
            start.ArgumentList.Add("--fault");
            start.ArgumentList.Add(check);
        }

        start.Environment.Remove(EnvironmentVariable);
        start.Environment.Remove(FaultVariable);
        if (configuration.DnnlMaxCpuIsa is { } isa)
        {
            start.Environment["DNNL_MAX_CPU_ISA"] = isa;
        }
        else
        {
            start.Environment.Remove("DNNL_MAX_CPU_ISA");
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {probe}.");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(ProbeTimeout))
        {
            process.Kill(entireProcessTree: true);
            return new CpuKernelProbeResult(configuration.Name, false, $"the probe did not finish in {ProbeTimeout.TotalSeconds:F0} s", double.NaN);
        }

        // A kernel that faults (illegal instruction, segmentation fault) kills the probe: that configuration fails.
        var line = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        if (process.ExitCode != 0 || line is null)
        {
            var why = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            return new CpuKernelProbeResult(configuration.Name, false, $"the probe exited with code {process.ExitCode} {why}".TrimEnd(), double.NaN);
        }

        return JsonSerializer.Deserialize<CpuKernelProbeResult>(line, ProbeJson)
            ?? throw new InvalidOperationException($"{probe} printed no verdict.");
    }

    private static string? ProbePath()
    {
        var path = Path.Combine(AppContext.BaseDirectory, ProbeAssembly);
        return File.Exists(path) && File.Exists(Path.ChangeExtension(path, ".runtimeconfig.json")) ? path : null;
    }

    /// <summary>The dotnet host that runs this process (the probe runs on the same runtime).</summary>
    private static string DotnetHost()
    {
        var fromRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }

    private static string? CacheDirectory()
    {
        var explicitDir = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrWhiteSpace(explicitDir))
        {
            return explicitDir;
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return !string.IsNullOrWhiteSpace(xdg) ? Path.Combine(xdg, "sairgrid")
            : !string.IsNullOrWhiteSpace(home) ? Path.Combine(home, ".cache", "sairgrid")
            : null;
    }

    /// <summary>Same CPU (model and feature flags), same libtorch build, same battery (version and checks): the same decision.</summary>
    private static string Fingerprint(string cpu)
    {
        var torchCpu = new[] { Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch_cpu.so"), Path.Combine(AppContext.BaseDirectory, "libtorch_cpu.so") }
            .FirstOrDefault(File.Exists);
        var text = string.Join('\n', cpu, CpuInfoField("flags") ?? "", typeof(TorchSharp.torch).Assembly.GetName().Version,
            torchCpu is null ? "" : new FileInfo(torchCpu).Length.ToString(CultureInfo.InvariantCulture), KernelBattery.Version,
            string.Join(',', KernelBattery.CheckNames));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    private static (CpuKernelConfiguration, string)? ReadCache(string? file)
    {
        try
        {
            if (file is null || !File.Exists(file))
            {
                return null;
            }

            var entry = JsonSerializer.Deserialize<CacheEntry>(File.ReadAllText(file), ProbeJson);
            return entry is null ? null : (CpuKernelConfiguration.Parse(entry.Configuration), $"{entry.Reason} (decided {entry.DecidedAt:u}, cached)");
        }
        catch (Exception e) when (e is IOException or JsonException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void WriteCache(string? file, CpuKernelConfiguration configuration, string reason)
    {
        if (file is null)
        {
            return;
        }

        try
        {
            var temp = file + $".{Environment.ProcessId}.tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(new CacheEntry(configuration.Name, reason, DateTimeOffset.UtcNow), ProbeJson));
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only file system (a locked-down pod) only means the next process probes again.
        }
    }

    private static void Forget(string? directory)
    {
        if (directory is null || !Directory.Exists(directory))
        {
            return;
        }

        try
        {
            File.Delete(Path.Combine(directory, $"cpu-kernels-{Fingerprint(CpuModel())}.json"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing cached, or nowhere to write: nothing to forget.
        }
    }

    private static FileStream? OpenLock(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var deadline = DateTime.UtcNow + ProbeTimeout * CpuKernelConfiguration.All.Count;
            while (true)
            {
                try
                {
                    return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(200);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? CpuInfoField(string field)
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo")
                .Where(l => l.StartsWith(field, StringComparison.Ordinal) && l.Contains(':', StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
                .FirstOrDefault();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed record CacheEntry(string Configuration, string Reason, DateTimeOffset DecidedAt);

    private static readonly JsonSerializerOptions ProbeJson = new(JsonSerializerDefaults.Web) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
