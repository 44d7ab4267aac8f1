using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>
/// The one ratio table of docs/benchmarks.md (issue 17, item 6), every figure measured in this run on this machine:
/// a SAIR iteration against the generator's own forward + backward (64 px embedded prior with the silo's default
/// preset, 256 px official layout with random weights), the generator's achieved GFLOP/s against this CPU's nominal
/// peak, the reference PyTorch code where this machine can run it, faces/hour of one engine for B = 1 … 8, and one
/// against two engine silo processes. <c>--write FILE</c> replaces the table between the markers in FILE.
/// </summary>
internal static class RatiosBench
{
    public const string StartMarker = "<!-- ratios:start — written by `bench ratios --write docs/benchmarks.md`; do not edit by hand -->";
    public const string EndMarker = "<!-- ratios:end -->";

    private const int FaceIterations = 400;

    public static int Run(BenchArgs args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(BenchArgs args)
    {
        var batches = args.Ints("batches", 1, 2, 4, 8);
        var engines = args.Ints("engines", 1, 2).Where(e => e > 0).ToArray();
        var runs = args.Int("runs", 3);
        var threads = args.Int("threads", Environment.ProcessorCount);
        var write = args.String("write", "");
        // The reference PyTorch StyleGAN2 code is not in this repository: --reference-code names a checkout of it.
        var referenceCode = args.String("reference-code", "");
        var python = args.String("python", "/usr/bin/python3");
        if (write.Length > 0)
        {
            // Fail before the run, not after it, when the file cannot take the table.
            Replace(write, null);
        }
        var runtime = TorchRuntime.EnsureLoaded();
        set_num_threads(threads);
        manual_seed(0);
        var clock = Stopwatch.StartNew();
        var rows = new List<(string What, string Figure, string Ratio)>();
        double? generator256 = null;

        foreach (var size in new[] { 64, 256 })
        {
            Console.Error.WriteLine($"ratios: {size} px, SAIR iteration against the generator alone");
            using var setup = size == 64 ? BatchBench.DemoPrior() : BatchBench.RandomWeights(size);
            var generator = GeneratorSeconds(setup.Generator, runs);
            var steps = args.Int($"steps{size}", size <= 64 ? 40 : 3);
            var (rate, _, _) = BatchBench.Measure(setup, setup.Options, 1, steps);
            var iteration = 1 / rate;
            rows.Add(($"SAIR iteration ÷ generator forward + backward alone, {size} px ({Describe(setup)}, B = 1)",
                Invariant($"{iteration:0.000} s vs {generator:0.000} s"), Invariant($"{iteration / generator:0.00}×")));
            if (size == 256)
            {
                generator256 = generator;
                var flops = 2 * GeneratorBench.ForwardFlops(setup.Generator.Config, 1);
                var achieved = flops / generator / 1e9;
                var (peak, how) = NominalPeakGflops(threads);
                rows.Add(($"generator forward + backward, 256 px: achieved GFLOP/s ÷ this CPU's nominal peak ({how})",
                    Invariant($"{achieved:0.0} vs {peak:0} GFLOP/s"), Invariant($"{achieved / peak:0.00}")));
            }
            else
            {
                Console.Error.WriteLine($"ratios: 64 px, faces/hour for B = {string.Join(", ", batches)}");
                double? single = null;
                foreach (var b in batches)
                {
                    var (batchRate, _, _) = BatchBench.Measure(setup, setup.Options, b, steps);
                    single ??= batchRate;
                    rows.Add(($"faces/hour of one engine at {FaceIterations} iterations, 64 px, B = {b} ÷ B = {batches[0]}",
                        Invariant($"{batchRate * 3600 / FaceIterations:0}"), Invariant($"{batchRate / single.Value:0.00}×")));
                }
            }
        }

        rows.Add(ReferencePyTorch(python, referenceCode, generator256, runs, threads));

        if (engines.Length > 0)
        {
            var settings = AlbumBench.SettingsFrom(args) with { Threads = args.Int("silo-threads", 1) };
            var measured = new List<AlbumBench.Measurement>();
            foreach (var count in engines)
            {
                Console.Error.WriteLine($"ratios: album on coordinator + {count} engine silo process(es)");
                measured.Add(await AlbumBench.MeasureAsync(count, settings));
            }
            var first = measured[0];
            double PerMinute(AlbumBench.Measurement m) => m.Completed / (m.Seconds / 60);
            foreach (var m in measured)
            {
                rows.Add(($"album throughput, {m.Engines} ÷ {first.Engines} engine silo process(es) (tiny fixture generator, {settings.Photos} photos × {settings.Iterations} it, {settings.Threads} thread(s) each; scaling efficiency in brackets)",
                    Invariant($"{PerMinute(m):0.00} photos/min ({m.Completed}/{settings.Photos} done)"),
                    Invariant($"{PerMinute(m) / PerMinute(first):0.00}× ({PerMinute(m) / (m.Engines / (double)first.Engines * PerMinute(first)):0.00})")));
            }
        }

        var command = "dotnet run -c Release --no-build --project bench/Sair.Bench -- " + string.Join(' ', Environment.GetCommandLineArgs().SkipWhile(a => a != "ratios"));
        var table = Table(rows, runtime, threads, command, clock.Elapsed);
        Console.WriteLine(table);
        if (write.Length > 0)
        {
            Replace(write, table);
            Console.Error.WriteLine($"ratios: table written into {write}");
        }
        return 0;
    }

    /// <summary>
    /// Replaces what lies between <see cref="StartMarker"/> and <see cref="EndMarker"/> in <paramref name="path"/>
    /// with <paramref name="table"/>; null only checks that the markers are there.
    /// </summary>
    internal static void Replace(string path, string? table)
    {
        var text = File.ReadAllText(path);
        var start = text.IndexOf(StartMarker, StringComparison.Ordinal);
        var end = text.IndexOf(EndMarker, StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            throw new InvalidOperationException($"{path} has no '{StartMarker}' … '{EndMarker}' section to write the table into.");
        }
        if (table is not null)
        {
            var body = start + StartMarker.Length;
            File.WriteAllText(path, text[..body] + "\n" + table + "\n" + text[end..]);
        }
    }

    private static string Table(List<(string What, string Figure, string Ratio)> rows, string runtime, int threads, string command, TimeSpan took)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Measured {DateTime.UtcNow:yyyy-MM-dd} on `{CpuKernels.CpuModel()}` ({Environment.ProcessorCount} cores, {threads} libtorch threads), {runtime}; {CpuKernels.Current!.Summary}; the run took {took.TotalMinutes:0} min."));
        text.AppendLine();
        text.AppendLine("```bash");
        text.AppendLine(command);
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine("| measurement | figure | ratio |");
        text.AppendLine("|---|---|---|");
        foreach (var (what, figure, ratio) in rows)
        {
            text.AppendLine($"| {what} | {figure} | {ratio} |");
        }
        return text.ToString().TrimEnd();
    }

    private static string Describe(BatchBench.Setup setup) =>
        setup.Generator.Config.Size == 64
            ? $"embedded demo prior, preset {setup.Preset} with the identity net every {setup.Options.IdentityInterval} iterations"
            : $"official layout, random weights, preset {setup.Preset}";

    /// <summary>Median seconds of one forward + backward to W+ of the generator alone, batch 1.</summary>
    private static double GeneratorSeconds(StyleGan2Generator generator, int runs)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w = generator.ExpandToWPlus(generator.MeanLatent(256).unsqueeze(0));
        using var enableGrad = enable_grad();
        return Timing.MedianSeconds(runs, () =>
        {
            using var inner = NewDisposeScope();
            // The gradient of the latent only, as the restorer asks for it (the prior's weights are not frozen).
            var latent = w.clone().requires_grad_(true);
            autograd.grad([generator.Synthesis(latent).square().mean()], [latent])[0].sum().item<float>();
        });
    }

    /// <summary>
    /// cores × clock × FP32 lanes of the widest vector unit × 2 (fused multiply-add) × 2 FMA pipes: an upper bound
    /// (CPUs that execute 512-bit FMAs in two halves, such as AMD Zen 4, reach half of it).
    /// </summary>
    internal static (double Gflops, string How) NominalPeakGflops(int cores)
    {
        var cpuinfo = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        var flags = cpuinfo.Split('\n').FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ') ?? [];
        var (lanes, isa) = flags.Contains("avx512f") ? (16, "AVX-512") : flags.Contains("avx2") ? (8, "AVX2") : (4, "SSE");
        var mhz = MaxMegahertz(cpuinfo);
        var peak = cores * mhz / 1000 * lanes * 2 * 2;
        return (peak, Invariant($"{cores} cores × {mhz / 1000:0.00} GHz × {lanes} {isa} lanes × 2 FMA × 2 pipes"));
    }

    private static double MaxMegahertz(string cpuinfo)
    {
        var max = RunAndRead("lscpu", "").Split('\n').FirstOrDefault(l => l.StartsWith("CPU max MHz:", StringComparison.Ordinal));
        if (max is not null && double.TryParse(max.Split(':')[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var lscpuMhz) && lscpuMhz > 0)
        {
            return lscpuMhz;
        }
        var current = cpuinfo.Split('\n').Where(l => l.StartsWith("cpu MHz", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(':')[1].Trim(), CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();
        return current;
    }

    /// <summary>
    /// The engine's 256 px generator forward + backward against the reference PyTorch code's (rosinality's
    /// stylegan2-pytorch, run by bench/reference-pytorch/generator_seconds.py with <paramref name="python"/>, Debian's
    /// python3-torch) on the same machine, in the same run; says why not when either is missing.
    /// </summary>
    private static (string What, string Figure, string Ratio) ReferencePyTorch(string python, string code, double? engine, int runs, int threads)
    {
        const string what = "generator forward + backward to W+, 256 px, batch 1: this engine ÷ the reference PyTorch StyleGAN2 code (rosinality's) on this machine";
        const string elsewhere = "issue 17's side-by-side run on AMD Zen 5: 0.18× at 256 px, 0.32× at 1024 px";
        var torch = RunAndRead(python, "-c \"import torch; print(torch.__version__)\"").Trim();
        if (torch.Length == 0 || torch.StartsWith("Error", StringComparison.Ordinal))
        {
            return (what, $"not measured: no PyTorch for {python} (Debian: apt-get install python3-torch; {elsewhere})", "–");
        }
        var script = Path.Combine(AppContext.BaseDirectory, "reference-pytorch", "generator_seconds.py");
        if (code.Length == 0 || !File.Exists(Path.Combine(code, "model.py")) || engine is null)
        {
            return (what, $"not measured: PyTorch {torch} is here; give --reference-code with a checkout of rosinality/stylegan2-pytorch (not part of this repository; {elsewhere})", "–");
        }
        Console.Error.WriteLine("ratios: 256 px, the reference PyTorch generator");
        var output = RunAndRead(python, $"\"{script}\" --code \"{Path.GetFullPath(code)}\" --size 256 --runs {runs} --threads {threads}");
        var line = output.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith('{'));
        if (output.StartsWith("Error", StringComparison.Ordinal) || line is null)
        {
            return (what, $"not measured: the reference run failed ({output.Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.Trim()})", "–");
        }
        var reference = System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("seconds").GetDouble();
        return (what, Invariant($"{engine:0.000} s vs {reference:0.000} s (PyTorch {torch}, {threads} threads)"), Invariant($"{engine / reference:0.00}×"));
    }

    private static string RunAndRead(string file, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : "Error: " + output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
