using System.Text.Json;
using Sair.Client.Tests.Support;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>
/// Issue 18's hostile-input corpus through <c>sair restore</c> (the other doors share its intake): every file gets a
/// clear outcome in report.json — restored, or refused with a reason — and nothing is written outside the output folder.
/// </summary>
[Collection(ClientGridCollection.Name)]
public sealed class HostileInputTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-hostile-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Every_kind_of_hostile_input_is_restored_or_refused_with_a_reason_and_nothing_strays()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        var output = Path.Combine(_work, "out");
        await HostileCorpus.WriteAsync(input, TestImages.SamplePhoto("John_Simm-1.jpg"));
        using var cli = new Support.Cli(grid.Connector);

        var exit = await cli.RunAsync("restore", "-i", input, "-o", output, "--reference", TestImages.SampleReference("John_Simm.jpg"),
            "--iterations", "2", "--ext", "png");

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Partial, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var outcomes = report.RootElement.GetProperty("faces").EnumerateArray()
            .ToDictionary(p => Path.GetFileName(p.GetProperty("input").GetString()!), p => (
                Status: p.GetProperty("status").GetString(),
                Reason: p.TryGetProperty("reason", out var reason) ? reason.GetString() : null));
        foreach (var (name, outcome) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            log.WriteLine($"{name}: {outcome.Status} {outcome.Reason}");
        }

        foreach (var refused in HostileCorpus.Refused.Append(HostileCorpus.NoFace))
        {
            Assert.True(outcomes.TryGetValue(refused, out var outcome), $"{refused} is not in the report");
            Assert.Equal("rejected", outcome.Status);
            Assert.False(string.IsNullOrWhiteSpace(outcome.Reason), $"{refused} was refused without a reason");
            Assert.DoesNotContain("   at ", outcome.Reason, StringComparison.Ordinal);
        }

        foreach (var restored in HostileCorpus.Accepted)
        {
            Assert.True(outcomes.TryGetValue(restored, out var outcome), $"{restored} is not in the report");
            Assert.True(outcome.Status == "restored", $"{restored}: {outcome.Status} {outcome.Reason}");
        }

        Assert.DoesNotContain("folder.jpg", outcomes.Keys);
        Assert.DoesNotContain("   at ", cli.Output, StringComparison.Ordinal);
        Assert.Equal(["in", "out"], Directory.EnumerateFileSystemEntries(_work).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Pool_enroll_and_album_submit_take_the_same_corpus_the_same_way()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        await HostileCorpus.WriteAsync(input, TestImages.SamplePhoto("John_Simm-1.jpg"));
        using var cli = new Support.Cli(grid.Connector);

        var enroll = await cli.RunAsync("pool", "enroll", "hostile-pool", "John Simm", input);
        var enrolled = cli.Output;
        log.WriteLine(enrolled);
        Assert.Equal(ExitCodes.Partial, enroll);
        AssertEachRefusedWithAReason(enrolled, HostileCorpus.NoFace);
        Assert.Contains($"{HostileCorpus.Accepted.Length} of {HostileCorpus.Accepted.Length + HostileCorpus.Refused.Length + 1} photo(s) enrolled", Flat(enrolled), StringComparison.Ordinal);

        using var album = new Support.Cli(grid.Connector);
        var submit = await album.RunAsync("album", "submit", "-i", input, "--reference", TestImages.SampleReference("John_Simm.jpg"),
            "--album-id", "hostile-album", "--iterations", "2");
        log.WriteLine($"exit {submit}\n{album.Output}");
        Assert.Equal(ExitCodes.Partial, submit);
        AssertEachRefusedWithAReason(album.Output, HostileCorpus.NoFace);
        Assert.Contains($"{HostileCorpus.Accepted.Length} photo(s), {HostileCorpus.Refused.Length + 1} refused", Flat(album.Output), StringComparison.Ordinal);
        Assert.Equal(["in"], Directory.EnumerateFileSystemEntries(_work).Select(Path.GetFileName));
    }

    [Fact]
    public async Task The_grain_api_refuses_the_corpus_bytes_a_client_sends_past_the_cli()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        await HostileCorpus.WriteAsync(input, TestImages.SamplePhoto("John_Simm-1.jpg"));
        var pool = grid.Grains.GetGrain<Sair.Grains.Pools.IReferencePoolGrain>("hostile-direct");

        foreach (var name in HostileCorpus.RefusedFiles.Append(HostileCorpus.NoFace))
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => pool.EnrollAsync("John Simm", File.ReadAllBytes(Path.Combine(input, name))));
            log.WriteLine($"{name}: {refused.GetType().Name}: {refused.Message}");
            Assert.True(refused is ArgumentException or Sair.Grains.Ports.FaceNotFoundException or Sair.Grains.GridException, $"{name}: {refused.GetType()}");
            Assert.DoesNotContain("   at ", refused.Message, StringComparison.Ordinal);
        }

        Assert.Empty(await pool.ListAsync());
    }

    /// <summary>Every file of the corpus that must be refused is, on a line of its own that gives a reason.</summary>
    private static void AssertEachRefusedWithAReason(string output, params string[] alsoRefused)
    {
        var flat = Flat(output);
        foreach (var name in HostileCorpus.Refused.Concat(alsoRefused))
        {
            var at = flat.IndexOf($"{name}: ", StringComparison.Ordinal);
            Assert.True(at >= 0 && flat.LastIndexOf("refused", at, StringComparison.Ordinal) >= 0, $"{name} is not refused with a reason:\n{output}");
        }

        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("folder.jpg", output, StringComparison.Ordinal);
    }

    /// <summary>The output as one line: the console wraps long lines.</summary>
    private static string Flat(string output) => System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " ");
}
