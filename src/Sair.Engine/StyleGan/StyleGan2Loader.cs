using Sair.Engine.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Engine.StyleGan;

/// <summary>Builds a <see cref="StyleGan2Generator"/> from rosinality-layout weights.</summary>
public static class StyleGan2Loader
{
    /// <summary>The top-level key of the average w in rosinality checkpoints.</summary>
    public const string LatentAvgKey = "latent_avg";

    // A training checkpoint holds g, d and g_ema; g_ema (the moving average) is the one to generate with.
    private static readonly string[] GeneratorPrefixes = ["g_ema.", "g."];

    /// <summary>
    /// Picks the generator's entries from a flattened checkpoint: those under <c>g_ema.</c> if any, else under
    /// <c>g.</c>, else every entry but <c>latent_avg</c> (a bare state dict). Prefixes are stripped; the tensors are
    /// the caller's (not copied).
    /// </summary>
    public static (IReadOnlyList<KeyValuePair<string, Tensor>> Generator, Tensor? LatentAvg) SelectGenerator(
        IEnumerable<KeyValuePair<string, Tensor>> tensors, string source)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var all = tensors.ToList();
        var latentAvg = all.FirstOrDefault(kv => kv.Key == LatentAvgKey).Value;
        foreach (var prefix in GeneratorPrefixes)
        {
            if (all.Any(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)))
            {
                return (all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                    .Select(kv => KeyValuePair.Create(kv.Key[prefix.Length..], kv.Value)).ToList(), latentAvg);
            }
        }
        var bare = all.Where(kv => kv.Key != LatentAvgKey).ToList();
        if (bare.Count == 0)
        {
            throw new CheckpointException(source, "holds no generator weights.");
        }
        return (bare, latentAvg);
    }

    /// <summary>
    /// A generator holding copies of the given weights (see <see cref="SelectGenerator"/> for the accepted layouts) and
    /// of <c>latent_avg</c> when present. The config is inferred from the weight shapes unless given; a config that
    /// does not fit throws a <see cref="CheckpointException"/> listing the differences.
    /// </summary>
    public static StyleGan2Generator FromStateDict(IEnumerable<KeyValuePair<string, Tensor>> tensors, string source,
        StyleGan2Config? config = null)
    {
        var (weights, latentAvg) = SelectGenerator(tensors, source);
        config ??= StyleGan2Config.InferFromStateDict(weights, source);
        var generator = new StyleGan2Generator(config);
        try
        {
            StateDictLoader.Load(generator, weights, source);
            if (latentAvg is not null)
            {
                if (latentAvg.numel() != config.StyleDim)
                {
                    throw new CheckpointException(source,
                        $"latent_avg has shape ({string.Join(", ", latentAvg.shape)}) but the generator's style_dim is {config.StyleDim}.");
                }
                generator.LatentAvg = latentAvg;
            }
            generator.eval();
            return generator;
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads a generator checkpoint (torch zip .pt/.pth — nested, training or flat — or safetensors, told apart by
    /// content) and loads it (onto <paramref name="device"/> when given).
    /// </summary>
    public static StyleGan2Generator Load(string path, StyleGan2Config? config = null, Device? device = null)
    {
        using var file = WeightsFile.Open(path);
        var generator = FromStateDict(file.Tensors, path, config);
        if (device is not null)
        {
            generator.to(device);
        }
        return generator;
    }
}
