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
            yield return new Markup(
                "[bold]sair[/] restores degraded face photos towards a known person's identity (SAIR: StyleGAN inversion with\n" +
                "identity, expression and colour terms), on this machine or across a SairGrid cluster. It also trains\n" +
                "the face prior and fits its emotion directions as jobs on the grid's engine silos.\n\n");
        }

        foreach (var renderable in base.GetHeader(model, command))
        {
            yield return renderable;
        }
    }

    public override IEnumerable<IRenderable> GetFooter(ICommandModel model, ICommandInfo? command)
    {
        foreach (var renderable in base.GetFooter(model, command))
        {
            yield return renderable;
        }

        yield return new Markup(
            """

            [yellow]GRID:[/]
                Without --cluster (or SAIR_CLUSTER), sair starts a local Sair.Silo
                (engine role) on first use and leaves it running for the next
                command; 'sair silo stop' ends it. Its data lives in SAIR_HOME
                (default ~/.local/share/sairgrid). With --cluster
                host:port[[,host:port...]], sair connects to those gateways and needs
                the image folder the silos share (--image-root or SAIR_IMAGE_ROOT).

            [yellow]EXIT CODES:[/]
                0    success: everything asked for was done
                1    partial: some photos restored, others refused or failed
                     (each reason is in report.json and the summary)
                2    failure: nothing restored, a training job failed or was
                     cancelled, or the grid was unreachable
                64   usage: the command line is wrong; nothing was started
                130  interrupted (Ctrl+C); submitted albums keep running, an
                     attached 'prior train' cancels its job (checkpoint kept)

            """);
    }
}
