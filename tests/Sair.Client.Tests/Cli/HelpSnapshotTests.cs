using Sair.Client.Tests.Support;

namespace Sair.Client.Tests.Cli;

/// <summary>
/// The help texts are part of the product: they are compared with committed snapshots, so a change to them is a
/// reviewed change. Set SAIR_UPDATE_SNAPSHOTS=1 to rewrite the snapshots from the current output.
/// </summary>
public sealed class HelpSnapshotTests
{
    [Theory]
    [InlineData("help.txt", "--help")]
    [InlineData("restore-help.txt", "restore --help")]
    [InlineData("album-help.txt", "album --help")]
    [InlineData("prior-train-help.txt", "prior train --help")]
    [InlineData("emotions-fit-help.txt", "emotions fit --help")]
    public async Task Help_matches_its_snapshot(string snapshot, string line)
    {
        using var cli = new Support.Cli(new NoGridConnector(), width: 120);

        var exit = await cli.RunAsync(line.Split(' '));

        Assert.Equal(ExitCodes.Success, exit);
        var actual = Normalise(cli.Output);
        var path = Path.Combine(RepoPaths.Root, "tests", "Sair.Client.Tests", "Snapshots", snapshot);
        if (Environment.GetEnvironmentVariable("SAIR_UPDATE_SNAPSHOTS") == "1")
        {
            await File.WriteAllTextAsync(path, actual);
        }

        Assert.True(File.Exists(path), $"No snapshot {path}: run with SAIR_UPDATE_SNAPSHOTS=1 once and review it.");
        Assert.Equal(Normalise(await File.ReadAllTextAsync(path)), actual);
    }

    [Fact]
    public async Task Help_documents_every_exit_code()
    {
        using var cli = new Support.Cli(new NoGridConnector(), width: 120);

        await cli.RunAsync("--help");

        foreach (var code in new[] { ExitCodes.Success, ExitCodes.Partial, ExitCodes.Failure, ExitCodes.Usage, ExitCodes.Interrupted })
        {
            Assert.Matches($@"(?m)^\s+{code}\s+\w", cli.Output);
        }
    }

    [Fact]
    public async Task Version_prints_the_build_and_starts_nothing()
    {
        var grid = new NoGridConnector();
        using var cli = new Support.Cli(grid, width: 120);

        Assert.Equal(ExitCodes.Success, await cli.RunAsync("--version"));

        Assert.Matches(@"^\d+\.\d+\.\d+", cli.Output.Trim());
        Assert.Equal(0, grid.Calls);
    }

    private static string Normalise(string text) =>
        string.Join('\n', text.ReplaceLineEndings("\n").Split('\n').Select(line => line.TrimEnd())).Trim() + "\n";
}
