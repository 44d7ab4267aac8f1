using System.Globalization;

namespace Sair.Bench;

/// <summary>
/// <c>bench soak</c>: issue 18's fault soak (<see cref="Soak"/>) — an album on a coordinator and N engine silo
/// processes on Azurite, engines SIGKILLed and restarted at random moments, Azurite killed once part-way; prints
/// docs/reliability.md's row and exits 1 unless nothing was lost, duplicated or stuck.
/// </summary>
internal static class SoakBench
{
    private const string TinyGenerator = "s64_sd32_m2_cm1_div16";

    public static int Run(BenchArgs args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(BenchArgs args)
    {
        var settings = new Soak.Settings(
            Photos: args.Int("photos", 200),
            Engines: args.Int("engines", 2),
            Iterations: args.Int("iterations", 6),
            KillEvery: TimeSpan.FromSeconds(args.Int("kill-every-s", 20)),
            DownFor: TimeSpan.FromSeconds(args.Int("down-s", 5)),
            StorageDownFor: TimeSpan.FromSeconds(args.Int("storage-down-s", 15)),
            Seed: args.Int("seed", 1),
            Timeout: TimeSpan.FromMinutes(args.Int("timeout-min", 60)),
            Generator: args.String("generator", RepoPaths.SharedFile("fixtures", "stylegan2", TinyGenerator, TinyGenerator + ".pt")));
        var outcome = await Soak.RunAsync(settings, line => Console.Error.WriteLine(line));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# soak: {Environment.ProcessorCount} cores; generator {Path.GetFileName(settings.Generator)}; a kill every {settings.KillEvery.TotalSeconds:0} s on average, down {settings.DownFor.TotalSeconds:0} s"));
        Console.WriteLine();
        Console.WriteLine(Soak.Header);
        Console.WriteLine(Soak.Row(outcome));
        foreach (var problem in outcome.Problems)
        {
            Console.WriteLine($"- {problem}");
        }

        return outcome.Clean ? 0 : 1;
    }
}
