using System.Text.Json;
using Sair.Client.Tests.Support;
using Sair.Grains.Ports;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>The pool commands, and a pool-matched restore where one photo holds no face.</summary>
[Collection(ClientGridCollection.Name)]
public sealed class PoolCommandTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-pool-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Enrol_list_match_restore_and_remove()
    {
        var salley = TestImages.SampleReference("John_Salley.jpg");
        var simm = TestImages.SampleReference("John_Simm.jpg");
        grid.Faces.Add(salley, "salley");
        grid.Faces.Add(simm, "simm");
        grid.Faces.Add(TestImages.SamplePhoto("John_Simm-2.jpg"), "simm");
        var flat = Path.Combine(_work, "flat.png");
        await File.WriteAllBytesAsync(flat, TestImages.Flat(48, 200));
        using var cli = new Support.Cli(grid.Connector);

        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "enroll", "friends", "salley", salley));
        // One good photo and one without a face: partial.
        Assert.Equal(ExitCodes.Partial, await cli.RunAsync("pool", "enroll", "friends", "simm", simm, flat));
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "list", "friends"));
        Assert.Contains("2 reference(s) of 2 person(s)", cli.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "match", "friends", TestImages.SamplePhoto("John_Simm-2.jpg"), "--top", "1"));
        Assert.Matches(@"1\s*│\s*simm\s*│\s*1\.000", cli.Output);
        Assert.Equal(ExitCodes.Failure, await cli.RunAsync("pool", "match", "friends", flat));
        // --aligned embeds the whole crop as an FFHQ-aligned face instead of detecting one.
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "match", "friends", TestImages.SamplePhoto("John_Simm-2.jpg"), "--aligned"));
        Assert.Contains(("simm", FaceFraming.Ffhq), grid.Analyzer.AlignedCalls);

        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        File.Copy(TestImages.SamplePhoto("John_Simm-2.jpg"), Path.Combine(input, "simm.jpg"));
        File.Copy(flat, Path.Combine(input, "flat.png"));
        var output = Path.Combine(_work, "out");
        var exit = await cli.RunAsync("restore", "-i", input, "-o", output, "--pool", "friends", "--iterations", "4");
        log.WriteLine(cli.Output);

        Assert.Equal(ExitCodes.Partial, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var photos = report.RootElement.GetProperty("faces").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal("simm", photos["simm"].GetProperty("person").GetString());
        Assert.Equal("restored", photos["simm"].GetProperty("status").GetString());
        Assert.Equal("rejected", photos["flat"].GetProperty("status").GetString());
        Assert.Contains("no face found", photos["flat"].GetProperty("reason").GetString(), StringComparison.Ordinal);

        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "remove", "friends", "simm"));
        Assert.Equal(ExitCodes.Failure, await cli.RunAsync("pool", "remove", "friends", "simm"));
    }

    [Fact]
    public async Task Aligned_references_are_enrolled_without_face_detection()
    {
        var chip = TestImages.SampleReference("John_Salley.jpg");
        grid.Faces.Add(chip, "salley-aligned");
        using var cli = new Support.Cli(grid.Connector);

        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "enroll", "aligned-friends", "salley", chip, "--aligned"));

        Assert.Contains(("salley-aligned", FaceFraming.Ffhq), grid.Analyzer.AlignedCalls);
        Assert.DoesNotContain(grid.Analyzer.DetectCalls, c => c.Person == "salley-aligned");
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "list", "aligned-friends"));
        Assert.Contains("1 reference(s) of 1 person(s)", cli.Output, StringComparison.Ordinal);
    }
}
