using Microsoft.Extensions.DependencyInjection;
using Sair.Client.Cli;
using Sair.Client.Commands;
using Sair.Client.Grid;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client;

/// <summary>The sair command tree. Program wires it to a real grid; tests hand in their own connector and console.</summary>
public static class SairApp
{
    public static CommandApp Create(IGridConnector connector, IAnsiConsole console, SairHome home)
    {
        var services = new ServiceCollection();
        services.AddSingleton(connector);
        services.AddSingleton(console);
        services.AddSingleton(home);
        var app = new CommandApp(new TypeRegistrar(services));
        app.Configure(config =>
        {
            config.SetApplicationName("sair");
            config.SetApplicationVersion(typeof(SairApp).Assembly
                .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown");
            config.UseStrictParsing();
            config.ConfigureConsole(console);
            config.SetHelpProvider(new SairHelpProvider(config.Settings));
            config.CancellationExitCode(ExitCodes.Interrupted);
            config.SetExceptionHandler((exception, _) =>
            {
                if (exception is CommandAppException)
                {
                    console.MarkupLine($"[red]usage:[/] {Markup.Escape(exception.Message)}");
                    console.MarkupLine("Run 'sair --help' or 'sair <command> --help' for the options.");
                    return ExitCodes.Usage;
                }

                console.MarkupLine($"[red]error:[/] {Markup.Escape(exception.Message)}");
                return ExitCodes.Failure;
            });

            config.AddExample("restore", "-i", "inputs/", "-o", "results", "--pool", "family");
            config.AddExample("restore", "-i", "old.jpg", "--reference", "refs/grandma.jpg", "--emotion", "happy");
            config.AddExample("demo");

            config.AddCommand<RestoreCommand>("restore")
                .WithDescription("Restore a photo or a folder towards a known identity (GFPGAN-style output folder)")
                .WithExample("restore", "-i", "inputs/whole_imgs", "-o", "results", "--pool", "family", "--upscale", "2")
                .WithExample("restore", "-i", "faces/", "--aligned", "--reference", "refs/", "--preset", "official", "--iterations", "800");

            config.AddBranch("pool", pool =>
            {
                pool.SetDescription("Reference pools: the people photos are restored towards");
                pool.AddCommand<PoolEnrollCommand>("enroll").WithDescription("Add reference photos of a person")
                    .WithExample("pool", "enroll", "family", "grandma", "refs/grandma-1.jpg", "refs/grandma-2.jpg");
                pool.AddCommand<PoolListCommand>("list").WithDescription("List a pool's references")
                    .WithExample("pool", "list", "family");
                pool.AddCommand<PoolMatchCommand>("match").WithDescription("Who in the pool the face in a photo looks like")
                    .WithExample("pool", "match", "family", "old.jpg", "--top", "3");
                pool.AddCommand<PoolRemoveCommand>("remove").WithDescription("Remove a person or one reference")
                    .WithExample("pool", "remove", "family", "grandma");
            });

            config.AddBranch("album", album =>
            {
                album.SetDescription("Albums: a folder restored as one job per photo across the grid");
                album.AddCommand<AlbumSubmitCommand>("submit").WithDescription("Submit a folder as an album (returns at once unless --watch)")
                    .WithExample("album", "submit", "-i", "scans/1962", "--pool", "family", "--album-id", "summer-1962");
                album.AddCommand<AlbumWatchCommand>("watch").WithDescription("Follow an album's progress, then write its results")
                    .WithExample("album", "watch", "summer-1962", "-o", "results/1962");
                album.AddCommand<AlbumResultsCommand>("results").WithDescription("Write an album's results as they are now")
                    .WithExample("album", "results", "summer-1962", "-o", "results/1962");
                album.AddCommand<AlbumCancelCommand>("cancel").WithDescription("Cancel an album's unfinished photos")
                    .WithExample("album", "cancel", "summer-1962");
                album.AddCommand<AlbumRetryCommand>("retry").WithDescription("Start an album's failed photos again")
                    .WithExample("album", "retry", "summer-1962");
            });

            config.AddBranch("prior", prior =>
            {
                prior.SetDescription("Train a StyleGAN2 face prior as a job on an engine silo (resumable, with samples and FFD)");
                prior.AddCommand<PriorTrainCommand>("train").WithDescription("Train a prior on a folder of aligned faces, or resume it (Ctrl+C cancels, keeping a checkpoint)")
                    .WithExample("prior", "train", "--data", "faces/", "-o", "priors/faces32")
                    .WithExample("prior", "train", "--data", "faces/", "-o", "priors/faces64", "--size", "64", "--images", "500000", "--detach");
                prior.AddCommand<TrainingStatusCommand>("status").WithDescription("A training job's state, checkpoint and latest sample grid")
                    .WithExample("prior", "status", "prior-faces32-1a2b3c4d");
                prior.AddCommand<TrainingWatchCommand>("watch").WithDescription("Follow a training job (Ctrl+C only stops watching)")
                    .WithExample("prior", "watch", "prior-faces32-1a2b3c4d");
                prior.AddCommand<TrainingCancelCommand>("cancel").WithDescription("Cancel a training job; it keeps its checkpoint, so starting it again resumes")
                    .WithExample("prior", "cancel", "prior-faces32-1a2b3c4d");
            });

            config.AddBranch("emotions", emotions =>
            {
                emotions.SetDescription("Emotion directions Δw_e: the expression edits restoration applies, fitted per generator");
                emotions.AddCommand<EmotionsFitCommand>("fit").WithDescription("Fit the seven emotion directions of a generator as a job on an engine silo")
                    .WithExample("emotions", "fit", "-o", "priors/faces32/emotions", "--generator", "priors/faces32/generator.safetensors");
                emotions.AddCommand<TrainingStatusCommand>("status").WithDescription("An emotion fit's state");
                emotions.AddCommand<TrainingWatchCommand>("watch").WithDescription("Follow an emotion fit (Ctrl+C only stops watching)");
                emotions.AddCommand<TrainingCancelCommand>("cancel").WithDescription("Cancel an emotion fit");
            });

            config.AddCommand<JobsCommand>("jobs").WithDescription("Your recent albums, or one album's jobs in detail")
                .WithExample("jobs").WithExample("jobs", "summer-1962");
            config.AddCommand<DemoCommand>("demo").WithDescription("Enrol the sample references, restore the sample album, write the results")
                .WithExample("demo", "-o", "demo-results");

            config.AddBranch("silo", silo =>
            {
                silo.SetDescription("The local silo sair starts when no cluster is configured");
                silo.AddCommand<SiloStartCommand>("start").WithDescription("Start it now (otherwise it starts on first use)");
                silo.AddCommand<SiloStatusCommand>("status").WithDescription("Is it running, and where");
                silo.AddCommand<SiloStopCommand>("stop").WithDescription("Stop it");
            });
        });
        return app;
    }
}
