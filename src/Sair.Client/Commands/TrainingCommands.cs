using System.ComponentModel;
using System.Globalization;
using Sair.Client.Cli;
using Sair.Client.Grid;
using Sair.Client.Training;
using Sair.Grains.Jobs;
using Sair.Grains.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client.Commands;

/// <summary>What starting a training job shares: the output folder, the job id and whether to stay attached.</summary>
public abstract class TrainingStartSettings : GridSettings
{
    [CommandOption("-o|--output <FOLDER>")]
    [Description("Folder the run writes to, as the engine silos see it (a prior resumes from it when the same command runs again)")]
    public string? Output { get; init; }

    [CommandOption("--job-id <ID>")]
    [Description("Job id (letters, digits, '-', '_', '.'). Default: derived from the output folder, so a rerun finds its job")]
    public string? JobId { get; init; }

    [CommandOption("--detach")]
    [Description("Return once the job is started (follow it with 'watch', stop it with 'cancel')")]
    public bool Detach { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of every random draw (reruns are reproducible)")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    public abstract TrainingKind Kind { get; }

    public string EffectiveJobId => JobId ?? TrainingJobIds.Default(Kind, Output!);

    public override ValidationResult Validate()
    {
        var grid = base.Validate();
        return !grid.Successful ? grid
            : string.IsNullOrWhiteSpace(Output) ? ValidationResult.Error("-o/--output is required: name the folder the run writes to.")
            : JobId is not null && !TrainingJobIds.IsValid(JobId)
                ? ValidationResult.Error($"--job-id '{JobId}' is not valid: use up to 80 letters, digits, '-', '_' or '.', starting with a letter or digit.")
            : ValidationResult.Success();
    }

    /// <summary>What to train, with paths made absolute here: the engine silos read them as they are.</summary>
    public abstract TrainingJobSpec Spec();

    /// <summary>A path given on this machine only means something to a local silo; a cluster's silos are told it as is.</summary>
    protected bool IsLocal => EffectiveCluster is null;
}

public sealed class PriorTrainSettings : TrainingStartSettings
{
    public static readonly int[] Sizes = [32, 64];

    [CommandOption("--data <FOLDER>")]
    [Description("Folder of face images aligned to the template (sub-folders lfw/ and utkface/ get their own crops)")]
    public string? Data { get; init; }

    [CommandOption("--size <PIXELS>")]
    [Description("Side of the generated faces: 32 or 64")]
    [DefaultValue(32)]
    public int Size { get; init; } = 32;

    [CommandOption("--images <N>")]
    [Description("Length of the run in real images shown to the discriminator")]
    [DefaultValue(200_000L)]
    public long Images { get; init; } = 200_000;

    [CommandOption("--batch <N>")]
    [Description("Images per step (a multiple of 4)")]
    [DefaultValue(16)]
    public int Batch { get; init; } = 16;

    [CommandOption("--ffd-every <STEPS>")]
    [Description("Steps between FFD measurements (Fréchet distance of face embeddings; 0: off)")]
    [DefaultValue(2000)]
    public int FfdEvery { get; init; } = 2000;

    public override TrainingKind Kind => TrainingKind.Prior;

    public override ValidationResult Validate()
    {
        var start = base.Validate();
        return !start.Successful ? start
            : string.IsNullOrWhiteSpace(Data) ? ValidationResult.Error("--data is required: name the folder of aligned face images.")
            : IsLocal && !Directory.Exists(Data) ? ValidationResult.Error($"--data '{Data}' does not exist.")
            : !Sizes.Contains(Size) ? ValidationResult.Error($"--size {Size} is not offered: use 32 or 64.")
            : Batch < 4 || Batch % 4 != 0 ? ValidationResult.Error($"--batch {Batch} is not a multiple of 4: use 4, 8, 16, ...")
            : Images < Batch ? ValidationResult.Error($"--images {Images} is less than one batch: use {Batch} or more.")
            : FfdEvery < 0 ? ValidationResult.Error($"--ffd-every {FfdEvery} is out of range: use 0 (off) or more.")
            : ValidationResult.Success();
    }

    public override TrainingJobSpec Spec() => TrainingJobSpec.Prior(Path.GetFullPath(Data!), Path.GetFullPath(Output!)) with
    {
        Size = Size,
        TotalImages = Images,
        Batch = Batch,
        Seed = Seed,
        FfdEvery = FfdEvery,
    };
}

public sealed class EmotionsFitSettings : TrainingStartSettings
{
    [CommandOption("--generator <CHECKPOINT>")]
    [Description("Generator whose directions to fit (e.g. a trained prior's generator.safetensors). Default: the engine silo's own")]
    public string? Generator { get; init; }

    [CommandOption("--samples <N>")]
    [Description("Latents sampled and labelled with the expression classifier (at least 20). Default: the fitter's (4000)")]
    public int? Samples { get; init; }

    public override TrainingKind Kind => TrainingKind.Emotions;

    public override ValidationResult Validate()
    {
        var start = base.Validate();
        return !start.Successful ? start
            : Generator is not null && IsLocal && !File.Exists(Generator) ? ValidationResult.Error($"--generator '{Generator}' does not exist.")
            : Samples is < 20 ? ValidationResult.Error($"--samples {Samples} is too few to fit seven classes: use 20 or more (thousands for useful directions).")
            : ValidationResult.Success();
    }

    public override TrainingJobSpec Spec() =>
        TrainingJobSpec.Emotions(Path.GetFullPath(Output!), Generator is null ? null : Path.GetFullPath(Generator), Samples) with { Seed = Seed };
}

public sealed class TrainingJobSettings : GridSettings
{
    [CommandArgument(0, "<JOB-ID>")]
    [Description("Training job id (as printed when it started)")]
    public string JobId { get; init; } = "";

    public override ValidationResult Validate()
    {
        var grid = base.Validate();
        return !grid.Successful ? grid
            : !TrainingJobIds.IsValid(JobId) ? ValidationResult.Error($"<JOB-ID> '{JobId}' is not a job id.")
            : ValidationResult.Success();
    }
}

/// <summary>Starts a training job (or resumes it) and, unless --detach, follows it; Ctrl+C cancels it with a checkpoint.</summary>
public abstract class TrainingStartCommand<TSettings>(IGridConnector connector, IAnsiConsole console) : GridCommand<TSettings>(connector, console)
    where TSettings : TrainingStartSettings
{
    protected override async Task<int> RunAsync(GridSession session, TSettings settings, CancellationToken cancellationToken)
    {
        var spec = settings.Spec();
        var jobId = settings.EffectiveJobId;
        var grid = await session.ConnectAsync(cancellationToken);
        var job = grid.Grains.GetGrain<ITrainingJobGrain>(jobId);
        TrainingJobStatus status;
        try
        {
            status = await job.StartAsync(spec);
        }
        catch (InvalidOperationException exception)
        {
            Error(exception.Message);
            return ExitCodes.Failure;
        }

        var noun = TrainingCommands.Noun(spec.Kind);
        if (status.State == JobState.Completed)
        {
            Console.MarkupLine($"{noun} [bold]{Markup.Escape(jobId)}[/] already completed with these settings.");
            return TrainingCommands.Summarise(Console, status);
        }

        Console.MarkupLine(status.CheckpointStep > 0
            ? $"Resuming {noun.ToLowerInvariant()} [bold]{Markup.Escape(jobId)}[/] from step {status.CheckpointStep:N0} (attempt {status.Attempt}), output {Markup.Escape(spec.OutputFolder)}"
            : $"Started {noun.ToLowerInvariant()} [bold]{Markup.Escape(jobId)}[/], output {Markup.Escape(spec.OutputFolder)}");
        var commands = TrainingCommands.Branch(spec.Kind);
        if (settings.Detach)
        {
            Console.MarkupLine($"Follow it with 'sair {commands} watch {Markup.Escape(jobId)}'; stop it with 'sair {commands} cancel {Markup.Escape(jobId)}'.");
            return ExitCodes.Success;
        }

        try
        {
            status = await TrainingFollower.FollowAsync(Console, job, status, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var cancelled = await job.CancelAsync();
            Console.MarkupLine(
                $"[yellow]Cancelled[/] {Markup.Escape(jobId)} at step {cancelled.Step:N0}. " +
                (spec.Kind == TrainingKind.Prior
                    ? $"The trainer saves its checkpoint in {Markup.Escape(spec.OutputFolder)}: run the same command again to resume."
                    : "Run the same command again to fit again."));
            return ExitCodes.Interrupted;
        }

        return TrainingCommands.Summarise(Console, status);
    }
}

public sealed class PriorTrainCommand(IGridConnector connector, IAnsiConsole console) : TrainingStartCommand<PriorTrainSettings>(connector, console);

public sealed class EmotionsFitCommand(IGridConnector connector, IAnsiConsole console) : TrainingStartCommand<EmotionsFitSettings>(connector, console);

/// <summary>A command on a training job that must exist: looks it up and refuses an unknown id.</summary>
public abstract class ExistingTrainingJobCommand(IGridConnector connector, IAnsiConsole console) : GridCommand<TrainingJobSettings>(connector, console)
{
    protected sealed override async Task<int> RunAsync(GridSession session, TrainingJobSettings settings, CancellationToken cancellationToken)
    {
        var grid = await session.ConnectAsync(cancellationToken);
        var job = grid.Grains.GetGrain<ITrainingJobGrain>(settings.JobId);
        var status = await job.GetStatusAsync();
        if (status.State == JobState.NotStarted)
        {
            Error($"No training job '{settings.JobId}' on this grid.");
            return ExitCodes.Failure;
        }

        return await RunAsync(job, status, settings, cancellationToken);
    }

    /// <summary>Runs on the job, given its status as it was just read.</summary>
    protected abstract Task<int> RunAsync(ITrainingJobGrain job, TrainingJobStatus status, TrainingJobSettings settings, CancellationToken cancellationToken);
}

/// <summary>Prints a training job's status.</summary>
public sealed class TrainingStatusCommand(IGridConnector connector, IAnsiConsole console) : ExistingTrainingJobCommand(connector, console)
{
    protected override Task<int> RunAsync(ITrainingJobGrain job, TrainingJobStatus status, TrainingJobSettings settings, CancellationToken cancellationToken)
    {
        var table = new Table().RoundedBorder().HideHeaders().AddColumns("", "");
        table.AddRow("Job", Markup.Escape($"{status.JobId} ({TrainingCommands.Noun(status.Kind!.Value).ToLowerInvariant()})"));
        table.AddRow("State", Markup.Escape(TrainingFollower.Describe(status)));
        table.AddRow("Output", Markup.Escape(status.OutputFolder ?? ""));
        if (status.Kind == TrainingKind.Prior)
        {
            table.AddRow("Checkpoint", status.CheckpointStep > 0 ? $"step {status.CheckpointStep:N0}" : "none yet");
        }

        if (status.Progress?.SampleGrid is { } samples)
        {
            table.AddRow("Samples", Markup.Escape(samples));
        }

        table.AddRow("Attempt", Markup.Escape($"{status.Attempt} on {status.Silo}"));
        if (status.Error is { } error)
        {
            table.AddRow("Note", Markup.Escape(error));
        }

        Console.Write(table);
        return Task.FromResult(ExitCodes.Success);
    }
}

/// <summary>Follows a training job until it finishes; Ctrl+C only stops watching.</summary>
public sealed class TrainingWatchCommand(IGridConnector connector, IAnsiConsole console) : ExistingTrainingJobCommand(connector, console)
{
    protected override async Task<int> RunAsync(ITrainingJobGrain job, TrainingJobStatus status, TrainingJobSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            status = await TrainingFollower.FollowAsync(Console, job, status, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.MarkupLine(
                $"Stopped watching; [bold]{Markup.Escape(settings.JobId)}[/] keeps running ('sair {TrainingCommands.Branch(status.Kind!.Value)} cancel {Markup.Escape(settings.JobId)}' stops it).");
            return ExitCodes.Interrupted;
        }

        return TrainingCommands.Summarise(Console, status);
    }
}

/// <summary>Cancels a training job; a prior keeps its checkpoint, so starting it again resumes.</summary>
public sealed class TrainingCancelCommand(IGridConnector connector, IAnsiConsole console) : ExistingTrainingJobCommand(connector, console)
{
    protected override async Task<int> RunAsync(ITrainingJobGrain job, TrainingJobStatus before, TrainingJobSettings settings, CancellationToken cancellationToken)
    {
        if (before.State.IsFinished())
        {
            Console.MarkupLine($"[bold]{Markup.Escape(settings.JobId)}[/] already ended: {Markup.Escape(TrainingFollower.Describe(before))}.");
            return ExitCodes.Success;
        }

        var after = await job.CancelAsync();
        Console.MarkupLine($"Cancelled [bold]{Markup.Escape(settings.JobId)}[/] at step {after.Step:N0}; the checkpoint is in {Markup.Escape(after.OutputFolder ?? "")}. " +
            "Starting it again with the same command resumes.");
        return ExitCodes.Success;
    }
}

internal static class TrainingCommands
{
    public static string Noun(TrainingKind kind) => kind == TrainingKind.Prior ? "Prior training" : "Emotion fit";

    public static string Branch(TrainingKind kind) => kind == TrainingKind.Prior ? "prior" : "emotions";

    /// <summary>Says how a finished job ended and what it produced; its exit code.</summary>
    public static int Summarise(IAnsiConsole console, TrainingJobStatus status)
    {
        var id = Markup.Escape(status.JobId);
        switch (status.State)
        {
            case JobState.Completed when status.Outcome is { } outcome:
                console.MarkupLine($"[green]Done[/] {id}: {Markup.Escape(TrainingFollower.Describe(status))}");
                foreach (var file in outcome.Files)
                {
                    console.MarkupLine($"  {Markup.Escape(file)}");
                }

                if (!outcome.Emotions.IsDefaultOrEmpty)
                {
                    var table = new Table().RoundedBorder()
                        .AddColumns("Emotion", "Positives", "Labelled by", "Train acc", "Held-out acc", "Δp");
                    foreach (var fit in outcome.Emotions)
                    {
                        table.AddRow(Markup.Escape(fit.Emotion), fit.Positives.ToString(CultureInfo.InvariantCulture), Markup.Escape(fit.Labeling ?? "-"),
                            fit.TrainAccuracy.ToString("0.0%", CultureInfo.InvariantCulture), fit.HeldOutAccuracy.ToString("0.0%", CultureInfo.InvariantCulture),
                            fit.ProbabilityGain?.ToString("+0.000;-0.000", CultureInfo.InvariantCulture) ?? "-");
                    }

                    console.Write(table);
                    console.MarkupLine("[grey]Balanced accuracies; Δp: how much a step along the direction raises the classifier's probability of the emotion.[/]");
                }

                return ExitCodes.Success;
            case JobState.Cancelled:
                console.MarkupLine($"[yellow]Cancelled[/] {id} at step {status.Step:N0}: starting it again with the same command resumes.");
                return ExitCodes.Failure;
            default:
                console.MarkupLine($"[red]error:[/] {id} {Markup.Escape(status.State.ToString().ToLowerInvariant())}: {Markup.Escape(status.Error ?? "no reason given")}");
                return ExitCodes.Failure;
        }
    }
}
