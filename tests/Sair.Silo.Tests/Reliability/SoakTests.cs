using Xunit.Abstractions;

namespace Sair.Silo.Tests.Reliability;

/// <summary>
/// The short form of issue 18's soak (<c>bench soak</c> runs the long one): a 16-photo album on a coordinator and two
/// engine silo processes on Azurite, engines SIGKILLed and restarted, Azurite killed once part-way — nothing lost,
/// duplicated or stuck.
/// </summary>
public sealed class SoakTests(ITestOutputHelper log)
{
    private const string TinyGenerator = "s64_sd32_m2_cm1_div16";

    [Fact]
    public async Task A_short_soak_with_engine_kills_and_a_storage_outage_loses_duplicates_and_strands_nothing()
    {
        var settings = new Soak.Settings(
            Photos: 16, Engines: 2, Iterations: 6,
            KillEvery: TimeSpan.FromSeconds(12), DownFor: TimeSpan.FromSeconds(3), StorageDownFor: TimeSpan.FromSeconds(6),
            Seed: 7, Timeout: TimeSpan.FromMinutes(6),
            Generator: RepoPaths.SharedFile("fixtures", "stylegan2", TinyGenerator, TinyGenerator + ".pt"));

        var outcome = await Soak.RunAsync(settings, log.WriteLine);

        log.WriteLine(Soak.Header);
        log.WriteLine(Soak.Row(outcome));
        Assert.True(outcome.Clean, $"{Soak.Row(outcome)}\n{string.Join("\n", outcome.Problems)}");
        Assert.True(outcome.Kills >= 1, "no engine was killed: the album finished before the first kill");
        Assert.Equal(1, outcome.StorageOutages);
    }
}
