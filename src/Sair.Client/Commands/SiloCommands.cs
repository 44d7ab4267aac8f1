using System.ComponentModel;
using Sair.Client.Grid;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client.Commands;

public sealed class SiloStopSettings : CommandSettings;

public sealed class SiloStatusSettings : CommandSettings;

public sealed class SiloStartSettings : CommandSettings
{
    [CommandOption("--generator <CHECKPOINT>")]
    [Description("StyleGAN2 generator checkpoint the silo loads")]
    public string? Generator { get; init; }

    [CommandOption("--identity-net <NET>")]
    [Description("Identity network the silo loads: faceapi (default), faceres, iresnet50:<weights.pth> or irse50:<weights.pth>")]
    public string? IdentityNet { get; init; }

    public override ValidationResult Validate()
    {
        if (Generator is not null && !File.Exists(Generator))
        {
            return ValidationResult.Error($"--generator '{Generator}' does not exist.");
        }

        if (IdentityNet is not null && IdentityNetOption.Problem(IdentityNet) is { } identityProblem)
        {
            return ValidationResult.Error(identityProblem);
        }

        return ValidationResult.Success();
    }
}

/// <summary>Starts the local silo (or reports the one already running).</summary>
public sealed class SiloStartCommand(IAnsiConsole console, SairHome home) : AsyncCommand<SiloStartSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SiloStartSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            var state = await new LocalSilo(home).EnsureRunningAsync(
                new EngineFiles(settings.Generator, settings.IdentityNet), m => console.MarkupLine(Markup.Escape(m)), cancellationToken);
            console.MarkupLine($"[green]Local silo running[/]: pid {state.ProcessId}, gateway 127.0.0.1:{state.GatewayPort}, data {Markup.Escape(home.Root)}");
            return ExitCodes.Success;
        }
        catch (GridUnavailableException exception)
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(exception.Message)}");
            return ExitCodes.Failure;
        }
    }
}

/// <summary>Stops the local silo sair started.</summary>
public sealed class SiloStopCommand(IAnsiConsole console, SairHome home) : AsyncCommand<SiloStopSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SiloStopSettings settings, CancellationToken cancellationToken)
    {
        var stopped = await new LocalSilo(home).StopAsync(cancellationToken);
        console.MarkupLine(stopped ? "Local silo stopped." : "No local silo is running.");
        return ExitCodes.Success;
    }
}

/// <summary>Says whether the local silo runs, where, and what its readiness probe reports (CPU kernels included).</summary>
public sealed class SiloStatusCommand(IAnsiConsole console, SairHome home) : AsyncCommand<SiloStatusSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SiloStatusSettings settings, CancellationToken cancellationToken)
    {
        if (new LocalSilo(home).Running() is not { } state)
        {
            console.MarkupLine($"No local silo is running (data folder {Markup.Escape(home.Root)}).");
            return ExitCodes.Failure;
        }

        console.MarkupLine(
            $"Local silo: pid {state.ProcessId}, gateway 127.0.0.1:{state.GatewayPort}, started {state.StartedAt:u}, " +
            $"generator {Markup.Escape(state.Generator ?? "(silo default)")}, log {Markup.Escape(home.SiloLog)}");
        var readiness = await LocalSilo.ReadinessAsync(state, cancellationToken);
        console.MarkupLine(readiness is null
            ? "Readiness: no answer from its health port (still starting, or started by an older sair)."
            : $"Readiness: {Markup.Escape(readiness.ReplaceLineEndings(Environment.NewLine + "  "))}");
        return ExitCodes.Success;
    }
}
