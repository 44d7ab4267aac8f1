using System.ComponentModel;
using System.Globalization;
using System.Net;
using Sair.Client.Grid;
using Sair.Grains;
using Sair.Grains.Ports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client.Cli;

/// <summary>Where the grid is; shared by every command that talks to it.</summary>
public class GridSettings : CommandSettings
{
    [CommandOption("--cluster <GATEWAYS>")]
    [Description("Gateways of a running cluster, [grey]host:port[[,host:port...]][/] (env SAIR_CLUSTER). Default: a local silo sair starts itself")]
    public string? Cluster { get; init; }

    [CommandOption("--cluster-id <ID>")]
    [Description("Orleans cluster id of the --cluster's silos (env SAIR_CLUSTER_ID; the k8s manifests use [grey]sairgrid-k8s[/]). Default: sair")]
    public string? ClusterId { get; init; }

    /// <summary>--cluster, else SAIR_CLUSTER; null for the local silo.</summary>
    public string? EffectiveCluster => NullIfBlank(Cluster) ?? NullIfBlank(Environment.GetEnvironmentVariable("SAIR_CLUSTER"));

    public override ValidationResult Validate()
    {
        if (EffectiveCluster is { } cluster)
        {
            try
            {
                ParseGateways(cluster);
            }
            catch (FormatException exception)
            {
                return ValidationResult.Error(exception.Message);
            }
        }

        return ValidationResult.Success();
    }

    public virtual GridTarget Target() =>
        new(EffectiveCluster is { } cluster ? ParseGateways(cluster) : null, null,
            NullIfBlank(ClusterId) ?? NullIfBlank(Environment.GetEnvironmentVariable("SAIR_CLUSTER_ID")));

    /// <summary>"host:port,host:port" to endpoints; host names are resolved now, so a typo fails before anything starts.</summary>
    public static IReadOnlyList<IPEndPoint> ParseGateways(string value)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = part.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(part[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                throw new FormatException($"Gateway '{part}' is not host:port (e.g. 10.0.0.5:30000).");
            }

            var host = part[..colon].Trim('[', ']');
            if (!IPAddress.TryParse(host, out var address))
            {
                try
                {
                    address = Dns.GetHostAddresses(host).FirstOrDefault()
                        ?? throw new FormatException($"Gateway host '{host}' has no address.");
                }
                catch (System.Net.Sockets.SocketException exception)
                {
                    throw new FormatException($"Gateway host '{host}' cannot be resolved: {exception.Message}");
                }
            }

            endpoints.Add(new IPEndPoint(address, port));
        }

        return endpoints.Count > 0 ? endpoints : throw new FormatException("--cluster is empty: give host:port[,host:port...].");
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>How each photo is optimised; shared by restore, album submit and demo.</summary>
public class EngineSettings : GridSettings
{
    /// <summary>What --emotion takes: auto (keep the input's expression) or one of the grid's emotions.</summary>
    public static IReadOnlyList<string> Emotions { get; } = [RestorationEmotions.Keep, .. RestorationEmotions.All];

    /// <summary>The flag that sets each <see cref="RestorationOptions"/> field this command's options fill in.</summary>
    internal static readonly IReadOnlyDictionary<string, string> OptionFlags = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(RestorationOptions.Preset)] = "--preset",
        [nameof(RestorationOptions.Emotion)] = "--emotion",
        [nameof(RestorationOptions.EmotionStrength)] = "--emotion-strength",
        [nameof(RestorationOptions.Iterations)] = "--iterations",
        [nameof(RestorationOptions.CheckpointEvery)] = "--checkpoint-every",
        [nameof(RestorationOptions.IdentityWeight)] = "--identity-weight",
        [nameof(RestorationOptions.JpegQuality)] = "--jpeg-quality",
        [nameof(RestorationOptions.Upscale)] = "--upscale",
        [nameof(RestorationOptions.Face)] = "--only-center-face",
    };

    [CommandOption("--preset <NAME>")]
    [Description("SAIR settings: [green]paper-pti[/] (paper-bp with the generator first tuned to the reference photo; the default, chosen by docs/quality.md), [green]paper[/] (the paper's equations), [green]paper-bp[/] (paper, then the result back-projected onto the input) or [green]official[/] (the authors' code)")]
    [DefaultValue(RestorationPresets.Default)]
    public string Preset { get; init; } = RestorationPresets.Default;

    [CommandOption("--iterations <N>")]
    [Description("Optimisation steps per photo")]
    [DefaultValue(RestorationOptions.DefaultIterations)]
    public int Iterations { get; init; } = RestorationOptions.DefaultIterations;

    [CommandOption("--emotion <NAME>")]
    [Description("Expression of the result: auto (keep it), neutral, angry, sad, happy, surprise, fear, disgust")]
    [DefaultValue(RestorationEmotions.Keep)]
    public string Emotion { get; init; } = RestorationEmotions.Keep;

    [CommandOption("--emotion-strength <GAMMA>")]
    [Description("How far the result is moved along the --emotion direction (the paper's γ, above 0, at most 10). Default: the strength the silo's emotion directions were fitted with")]
    public double? EmotionStrength { get; init; }

    [CommandOption("-w|--identity-weight <W>")]
    [Description("Weight of the identity term, 0-10 (default: the preset's, 1 for paper): lower keeps the result closer to the input photo, higher pulls it toward the reference person")]
    public double? IdentityWeight { get; init; }

    [CommandOption("--jpeg-quality <Q>")]
    [Description("The JPEG quality the photos were saved at (1-100): the degradation model then includes that JPEG compression, so the result explains the blocks instead of copying them. Default: none (bicubic degradation only, as in the paper)")]
    public int? JpegQuality { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of the latent initialisation and noise (reruns are reproducible)")]
    [DefaultValue(0)]
    public int Seed { get; init; }

    [CommandOption("--checkpoint-every <N>")]
    [Description("Steps between checkpoints: the most work a silo failure loses")]
    [DefaultValue(50)]
    public int CheckpointEvery { get; init; } = 50;

    [CommandOption("--generator <CHECKPOINT>")]
    [Description("StyleGAN2 generator checkpoint for the local silo (sair starts it with this file)")]
    public string? Generator { get; init; }

    [CommandOption("--identity-net <NET>")]
    [Description("Identity network of the local silo: faceapi (default), faceres, iresnet50:<weights.pth> or irse50:<weights.pth>")]
    public string? IdentityNet { get; init; }

    public override ValidationResult Validate()
    {
        var grid = base.Validate();
        if (!grid.Successful)
        {
            return grid;
        }

        if (!Emotions.Contains(Emotion, StringComparer.OrdinalIgnoreCase))
        {
            return ValidationResult.Error($"--emotion '{Emotion}' is unknown: use one of {string.Join(", ", Emotions)}.");
        }

        if (EmotionStrength is { } strength)
        {
            if (!(strength is > 0 and <= RestorationOptions.MaxEmotionStrength))
            {
                return ValidationResult.Error($"--emotion-strength {strength} is out of range: use a value above 0, at most {RestorationOptions.MaxEmotionStrength}.");
            }

            if (Emotion.Equals(RestorationEmotions.Keep, StringComparison.OrdinalIgnoreCase))
            {
                return ValidationResult.Error("--emotion-strength sets how strong the --emotion is: name the emotion too (e.g. --emotion happy).");
            }
        }

        // The grid's own rules for the options (RestorationOptions.Problem, then the default GridLimits a grid
        // enforces again with its configured ones), worded with the flags that set them.
        if ((Options().Problem() ?? new GridLimits().Problem(Options())) is { } problem)
        {
            return ValidationResult.Error(problem.Describe(OptionFlags[problem.Field]));
        }

        if (Generator is not null && !File.Exists(Generator))
        {
            return ValidationResult.Error($"--generator '{Generator}' does not exist.");
        }

        if (IdentityNet is not null && IdentityNetOption.Problem(IdentityNet) is { } identityProblem)
        {
            return ValidationResult.Error(identityProblem);
        }

        if (EffectiveCluster is not null && (Generator ?? IdentityNet) is not null)
        {
            return ValidationResult.Error("--generator and --identity-net configure the local silo; a cluster's engines are configured where they run.");
        }

        return ValidationResult.Success();
    }

    public override GridTarget Target() => base.Target() with { Engine = new EngineFiles(Generator, IdentityNet) };

    public RestorationOptions Options() => new(
        RestorationPresets.Find(Preset) ?? Preset,
        Iterations,
        RestorationEmotions.Find(Emotion),
        EmotionStrength: EmotionStrength ?? 0,
        Seed,
        Math.Min(CheckpointEvery, Iterations),
        JpegQuality: JpegQuality,
        IdentityWeight: IdentityWeight);
}
