using System.Diagnostics;
using System.Globalization;
using Sair.Engine.Runtime;

namespace Sair.Bench;

/// <summary>
/// The cost of each CPU kernel configuration the guard can fall back to: the generator benchmark (forward + backward
/// to W+, batch 1) run once per configuration, each in its own process forced to it (oneDNN's instruction-set cap is
/// fixed per process), rounds interleaved, and reported as a ratio to the default kernels measured in the same run.
/// </summary>
internal static class KernelsBench
{
    public static int Run(BenchArgs args)
    {
        var sizes = args.String("sizes", "256,1024");
        var runs = args.Int("runs", 3);
        var threads = args.Int("threads", Environment.ProcessorCount);
        var rounds = args.Int("rounds", 1);
        var configurations = args.String("configurations", string.Join(',', CpuKernelConfiguration.All.Select(c => c.Name)))
            .Split(',').Select(CpuKernelConfiguration.Parse).ToList();

        Console.WriteLine($"# CPU kernel configurations: {CpuKernels.CpuModel()}, {threads} threads, generator fwd+bwd to W+ (scaled modulation), batch 1, median of {runs} runs after 1 warm-up per process, {rounds} interleaved round(s)");
        var seconds = new Dictionary<(string Kernels, int Size), List<double>>();
        var checks = new Dictionary<string, string>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var configuration in configurations)
            {
                foreach (var line in RunForced(configuration, sizes, runs, threads))
                {
                    if (line.StartsWith("cpu kernels:", StringComparison.Ordinal))
                    {
                        checks[configuration.Name] = line;
                        continue;
                    }

                    // | size | batch | forward s | fwd GFLOP/s | forward+backward s | ... from the generator benchmark.
                    var cells = line.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                    if (cells.Length >= 5 && int.TryParse(cells[0], CultureInfo.InvariantCulture, out var size))
                    {
                        var key = (configuration.Name, size);
                        if (!seconds.TryGetValue(key, out var list))
                        {
                            seconds[key] = list = [];
                        }

                        list.Add(double.Parse(cells[4], CultureInfo.InvariantCulture));
                    }
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("| kernels | self-check in that process | " + string.Join(" | ", SizesOf(seconds).Select(s => $"{s} px f+b s | × default")) + " |");
        Console.WriteLine("|---|---|" + string.Concat(SizesOf(seconds).Select(_ => "---|---|")));
        foreach (var configuration in configurations)
        {
            var cells = SizesOf(seconds).Select(size =>
            {
                var own = Median(seconds, configuration.Name, size);
                var baseline = Median(seconds, CpuKernelConfiguration.Default.Name, size);
                return string.Create(CultureInfo.InvariantCulture, $"{own:0.000} | {(double.IsNaN(baseline) ? "–" : (own / baseline).ToString("0.00", CultureInfo.InvariantCulture))}");
            });
            var verdict = checks.TryGetValue(configuration.Name, out var line) ? (line.Contains("WARNING", StringComparison.Ordinal) ? "fails" : "passes") : "?";
            Console.WriteLine($"| {configuration.Name} | {verdict} | {string.Join(" | ", cells)} |");
        }

        return 0;
    }

    private static IEnumerable<int> SizesOf(Dictionary<(string Kernels, int Size), List<double>> seconds) =>
        seconds.Keys.Select(k => k.Size).Distinct().Order();

    private static double Median(Dictionary<(string Kernels, int Size), List<double>> seconds, string kernels, int size)
    {
        if (!seconds.TryGetValue((kernels, size), out var list) || list.Count == 0)
        {
            return double.NaN;
        }

        var sorted = list.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>This benchmark's own executable, run as 'generator' with Sair__Engine__CpuKernels forced.</summary>
    private static IEnumerable<string> RunForced(CpuKernelConfiguration configuration, string sizes, int runs, int threads)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(KernelsBench).Assembly.Location);
        }

        foreach (var arg in new[] { "generator", "--sizes", sizes, "--batches", "1", "--runs", runs.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[CpuKernels.EnvironmentVariable] = configuration.Name;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {self}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Console.Error.Write(stderr.Result);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"the generator benchmark with {configuration.Name} kernels exited with code {process.ExitCode}");
        }

        // The forced process logs its decision on stderr; keep it beside the timings.
        return stdout.Split('\n').Concat(stderr.Result.Split('\n').Where(l => l.StartsWith("cpu kernels:", StringComparison.Ordinal)));
    }
}
