using Sair.Client.Tests.Support;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>On a terminal, the album's one stream feeds an album bar and a live bar per running face (iterations and current loss).</summary>
[Collection(ClientGridCollection.Name)]
public sealed class ProgressTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-progress-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Photo_bars_show_the_current_loss_and_finish_at_100_percent()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        File.Copy(TestImages.SamplePhoto("John_Salley-1.jpg"), Path.Combine(input, "salley.jpg"));
        using var cli = new Support.Cli(grid.Connector, width: 120, interactive: true);

        // 1,500 fake iterations of ~2 ms: a few seconds, long enough for the job to tell its album (once a second) and
        // for the display to refresh while it runs.
        var exit = await cli.RunAsync("restore", "-i", input, "-o", Path.Combine(_work, "out"),
            "--reference", TestImages.SampleReference("John_Salley.jpg"), "--iterations", "1500");
        log.WriteLine(cli.Output);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Matches(@"salley_00 loss 0\.\d{4}", cli.Output);
        Assert.Contains("100%", cli.Output, StringComparison.Ordinal);
        Assert.Contains("1/1 faces", cli.Output, StringComparison.Ordinal);
    }
}
