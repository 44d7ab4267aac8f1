using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace Sair.Client.Cli;

/// <summary>Spectre's help, plus what every command shares: where the grid is, and what the exit codes mean.</summary>
internal sealed class SairHelpProvider(ICommandAppSettings settings) : HelpProvider(settings)
{
    public override IEnumerable<IRenderable> GetHeader(ICommandModel model, ICommandInfo? command)
    {
        if (command is null)
        {
            // Whole sentences, wrapped by the console to its width (or 80 columns when piped), never by hand.
            yield return new Markup(
                "[bold]sair[/] restores degraded face photos towards a known person's identity (SAIR: StyleGAN inversion with " +
                "identity, expression and colour terms), on this machine or across a SairGrid cluster. It also trains " +
                "the face prior and fits its emotion directions as jobs on the grid's engine silos.");
            yield return Text.NewLine;
            yield return Text.NewLine;
        }

        foreach (var renderable in base.GetHeader(model, command))
        {
            yield return renderable;
        }
    }

    public override IEnumerable<IRenderable> GetOptions(ICommandModel model, ICommandInfo? command) =>
        base.GetOptions(model, command is null ? null : new InputsFirstCommandInfo(command));

    public override IEnumerable<IRenderable> GetFooter(ICommandModel model, ICommandInfo? command)
    {
        foreach (var renderable in base.GetFooter(model, command))
        {
            yield return renderable;
        }

        yield return Text.NewLine;
        yield return new Markup("[yellow]GRID:[/]");
        yield return Text.NewLine;
        yield return new Padder(new Markup(
            "Without --cluster (or SAIR_CLUSTER), sair starts a local Sair.Silo (engine role) on first use and leaves it running for " +
            "the next command; 'sair silo stop' ends it. Its data lives in SAIR_HOME (default ~/.local/share/sairgrid). With --cluster " +
            "host:port[[,host:port...]] (and --cluster-id when its silos use another cluster id than sair), sair connects to those " +
            "gateways; photos go up and results come down through them, whatever store the silos keep images in."), new Padding(4, 0, 0, 0));
        yield return Text.NewLine;
        yield return new Markup("[yellow]EXIT CODES:[/]");
        yield return Text.NewLine;
        var codes = new Spectre.Console.Grid().AddColumn(new GridColumn().NoWrap().PadLeft(4).PadRight(2)).AddColumn();
        codes.AddRow("0", "success: everything asked for was done");
        codes.AddRow("1", "partial: some faces restored, others refused or failed (each reason is in report.json and the summary)");
        codes.AddRow("2", "failure: nothing restored, a training job failed or was cancelled, or the grid was unreachable");
        codes.AddRow("64", "usage: the command line is wrong; nothing was started");
        codes.AddRow("130", "interrupted (Ctrl+C); submitted albums keep running, an attached 'prior train' cancels its job (checkpoint kept)");
        yield return codes;
        yield return Text.NewLine;
    }
}

/// <summary>
/// A command as help shows it, with -i/--input and -o/--output right after -h/--help: Spectre lists inherited options
/// (grid, engine) before a command's own, which would bury the two options every restoration needs.
/// </summary>
internal sealed class InputsFirstCommandInfo(ICommandInfo inner) : ICommandInfo
{
    private static readonly string[] First = ["help", "input", "output"];

    public string Name => inner.Name;

    public string? Description => inner.Description;

    public bool IsBranch => inner.IsBranch;

    public bool IsDefaultCommand => inner.IsDefaultCommand;

    public bool IsHidden => inner.IsHidden;

    public IReadOnlyList<ICommandParameter> Parameters =>
        [.. inner.Parameters.OrderBy(Rank)];

    public ICommandInfo? Parent => inner.Parent;

    public IReadOnlyList<ICommandInfo> Commands => inner.Commands;

    public ICommandInfo? DefaultCommand => inner.DefaultCommand;

    public IReadOnlyList<string[]> Examples => inner.Examples;

    private static int Rank(ICommandParameter parameter)
    {
        var rank = parameter is ICommandOption option ? Array.FindIndex(First, name => option.LongNames.Contains(name)) : -1;
        return rank < 0 ? First.Length : rank;
    }
}
