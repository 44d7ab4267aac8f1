using System.Globalization;
using System.Text.RegularExpressions;
using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.StyleGan;

/// <summary>
/// The shape of a rosinality StyleGAN2 generator. Two configs are equal when they describe the same network
/// (size, style width, mapping depth, mapping learning-rate multiplier, blur kernel and the channels actually used),
/// so a config inferred from weights equals the one the weights were trained with.
/// </summary>
public sealed partial record StyleGan2Config
{
    /// <summary>The largest resolution the default channel table covers.</summary>
    public const int MaxDefaultSize = 1024;

    /// <summary>Output side in pixels: a power of two, at least 8.</summary>
    public required int Size { get; init; }

    /// <summary>Width of z and w (512 in the official models).</summary>
    public int StyleDim { get; init; } = 512;

    /// <summary>Number of EqualLinear layers of the mapping network (8 in the official models).</summary>
    public int NMlp { get; init; } = 8;

    /// <summary>Widens the layers of 64 px and above (2 in config-f); ignored when <see cref="Channels"/> is given.</summary>
    public int ChannelMultiplier { get; init; } = 2;

    /// <summary>Learning-rate multiplier of the mapping layers (weights stored divided by it, scaled back at run time).</summary>
    public double LrMlp { get; init; } = 0.01;

    /// <summary>Explicit channel table (resolution → channels) for every resolution 4…Size; null for rosinality's table.</summary>
    public IReadOnlyDictionary<int, int>? Channels { get; init; }

    /// <summary>The 1-D FIR kernel of the blur and the skip upsampling; [1, 3, 3, 1] in every public model.</summary>
    public IReadOnlyList<int> BlurKernel { get; init; } = [1, 3, 3, 1];

    /// <summary>log2(Size).</summary>
    public int LogSize => (int)Math.Round(Math.Log2(Size));

    /// <summary>Number of StyledConv layers, and of noise buffers: 2·log2(size) − 3.</summary>
    public int NumLayers => (LogSize - 2) * 2 + 1;

    /// <summary>Rows of a W+ latent: 2·log2(size) − 2.</summary>
    public int NLatent => LogSize * 2 - 2;

    /// <summary>The resolutions 4, 8, …, Size.</summary>
    public IEnumerable<int> Resolutions => Enumerable.Range(2, LogSize - 1).Select(i => 1 << i);

    /// <summary>Channels of the feature maps at resolution <paramref name="resolution"/>.</summary>
    public int ChannelsAt(int resolution)
    {
        if (Channels is not null)
        {
            return Channels.TryGetValue(resolution, out var c)
                ? c
                : throw new ArgumentException($"the channel table has no entry for {resolution} px.");
        }
        return DefaultChannels(resolution, ChannelMultiplier);
    }

    /// <summary>rosinality's table: 512 up to 32 px, then 256·cm, 128·cm, 64·cm, 32·cm, 16·cm for 64…1024 px.</summary>
    public static int DefaultChannels(int resolution, int channelMultiplier) => resolution switch
    {
        4 or 8 or 16 or 32 => 512,
        64 => 256 * channelMultiplier,
        128 => 128 * channelMultiplier,
        256 => 64 * channelMultiplier,
        512 => 32 * channelMultiplier,
        1024 => 16 * channelMultiplier,
        _ => throw new ArgumentException(
            $"rosinality's channel table stops at {MaxDefaultSize} px; give an explicit channel table for {resolution} px."),
    };

    /// <summary>Throws an <see cref="ArgumentException"/> that says what to change when the config cannot build a network.</summary>
    public void Validate()
    {
        if (Size < 8 || (Size & (Size - 1)) != 0)
        {
            throw new ArgumentException($"Size must be a power of two of at least 8 (got {Size}).");
        }
        if (StyleDim < 1 || NMlp < 1)
        {
            throw new ArgumentException($"StyleDim and NMlp must be positive (got {StyleDim} and {NMlp}).");
        }
        if (!(LrMlp > 0) || double.IsInfinity(LrMlp))
        {
            throw new ArgumentException($"LrMlp must be a positive number (got {LrMlp}).");
        }
        if (BlurKernel.Count < 2 || BlurKernel.Sum() == 0)
        {
            throw new ArgumentException("BlurKernel needs at least two taps with a non-zero sum.");
        }
        if (Channels is null)
        {
            if (ChannelMultiplier < 1)
            {
                throw new ArgumentException($"ChannelMultiplier must be positive (got {ChannelMultiplier}).");
            }
            if (Size > MaxDefaultSize)
            {
                throw new ArgumentException(
                    $"Size {Size} is above {MaxDefaultSize} px, where rosinality's channel table ends: give Channels explicitly.");
            }
            return;
        }
        var missing = Resolutions.Where(r => !Channels.ContainsKey(r)).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"the channel table lacks {string.Join(", ", missing.Select(r => r + " px"))}; it needs every resolution 4…{Size}.");
        }
        var bad = Resolutions.Where(r => Channels[r] < 1).ToList();
        if (bad.Count > 0)
        {
            throw new ArgumentException($"the channel table has non-positive channels at {string.Join(", ", bad.Select(r => r + " px"))}.");
        }
    }

    /// <summary>
    /// Infers size, style width, mapping depth and the channel table from the weight shapes of a generator state dict
    /// (keys bare or under a <c>g_ema.</c>/<c>g.</c> prefix; see <see cref="StyleGan2Loader.SelectGenerator"/>).
    /// The channel multiplier is set when the table is rosinality's; otherwise the table is given explicitly.
    /// </summary>
    public static StyleGan2Config InferFromStateDict(IEnumerable<KeyValuePair<string, Tensor>> stateDict, string source = "state dict")
    {
        var (generator, _) = StyleGan2Loader.SelectGenerator(stateDict, source);
        var shapes = generator.ToDictionary(kv => kv.Key, kv => kv.Value.shape);

        long[] Shape(string key, int rank) =>
            shapes.TryGetValue(key, out var s) && s.Length == rank
                ? s
                : throw new CheckpointException(source,
                    shapes.ContainsKey(key)
                        ? $"'{key}' has shape ({string.Join(", ", shapes[key])}), expected rank {rank}: not a rosinality StyleGAN2 generator."
                        : $"no '{key}' entry: not a rosinality StyleGAN2 generator state dict.");

        var nMlp = 0;
        while (shapes.ContainsKey($"style.{nMlp + 1}.weight"))
        {
            nMlp++;
        }
        var styleDim = (int)Shape("style.1.weight", 2)[1];
        var nToRgbs = shapes.Keys.Select(k => ToRgbWeightKey().Match(k)).Count(m => m.Success);
        var size = 4 << nToRgbs;

        var channels = new Dictionary<int, int> { [4] = (int)Shape("input.input", 4)[1] };
        for (var k = 0; k < nToRgbs; k++)
        {
            channels[8 << k] = (int)Shape($"convs.{2 * k}.conv.weight", 5)[1];
        }

        var inferred = new StyleGan2Config { Size = size, StyleDim = styleDim, NMlp = nMlp, Channels = channels };
        foreach (var cm in new[] { 2, 1 })
        {
            if (size <= MaxDefaultSize && channels.All(c => DefaultChannels(c.Key, cm) == c.Value))
            {
                return inferred with { Channels = null, ChannelMultiplier = cm };
            }
        }
        return inferred;
    }

    /// <inheritdoc/>
    public bool Equals(StyleGan2Config? other) =>
        other is not null
        && Size == other.Size
        && StyleDim == other.StyleDim
        && NMlp == other.NMlp
        && LrMlp.Equals(other.LrMlp)
        && BlurKernel.SequenceEqual(other.BlurKernel)
        && UsedChannels().SequenceEqual(other.UsedChannels());

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Size, StyleDim, NMlp, LrMlp, TryChannelsAt(4));

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"StyleGAN2 {Size} px, style {StyleDim}, n_mlp {NMlp}, lr_mlp {LrMlp}, blur [{string.Join(",", BlurKernel)}], " +
            $"channels {string.Join(" ", UsedChannels().Select(c => $"{c.Resolution}:{c.Channels}"))}");

    // -1 marks a resolution the table lacks, so that comparing and printing never throw on an invalid config.
    private IEnumerable<(int Resolution, int Channels)> UsedChannels()
    {
        var self = this;
        return Size < 4 ? [] : Resolutions.Select(r => (r, self.TryChannelsAt(r)));
    }

    private int TryChannelsAt(int resolution) =>
        Channels is not null
            ? Channels.GetValueOrDefault(resolution, -1)
            : resolution <= MaxDefaultSize ? DefaultChannels(resolution, ChannelMultiplier) : -1;

    [GeneratedRegex(@"^to_rgbs\.\d+\.conv\.weight$")]
    private static partial Regex ToRgbWeightKey();
}
