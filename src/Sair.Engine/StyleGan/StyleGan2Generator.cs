using System.Runtime.CompilerServices;
using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.StyleGan;

/// <summary>
/// rosinality's StyleGAN2 generator (the layout of the official FFHQ checkpoints used by SAIR, e4e, pSp and GPEN).
/// <see cref="nn.Module.state_dict"/> has the same keys, shapes and order as PyTorch's; <c>forward</c> maps a W+
/// latent (B, n_latent, style_dim) to an image (B, 3, size, size) in about [−1, 1].
/// </summary>
public sealed class StyleGan2Generator : nn.Module<Tensor, Tensor>
{
    private readonly MappingNetwork style;
    private readonly ConstantInput input;
    private readonly StyledConv conv1;
    private readonly ToRgb to_rgb1;
    private readonly TypedModuleList<StyledConv> convs;
    private readonly TypedModuleList<ToRgb> to_rgbs;
    private readonly NoiseBuffers noises;

    // rosinality keeps latent_avg beside g_ema, not in it: a StrongBox keeps TorchSharp from registering it as a buffer.
    private readonly StrongBox<Tensor?> _latentAvg = new();

    /// <summary>Builds a randomly initialised generator (N(0,1) weights and noise, as rosinality does).</summary>
    public StyleGan2Generator(StyleGan2Config config) : base("Generator")
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var blurKernel = config.BlurKernel;
        var c4 = config.ChannelsAt(4);

        style = new MappingNetwork(config.StyleDim, config.NMlp, config.LrMlp);
        input = new ConstantInput(c4);
        conv1 = new StyledConv(c4, c4, config.StyleDim, upsample: false, blurKernel);
        to_rgb1 = new ToRgb(c4, config.StyleDim, upsample: false, blurKernel);
        convs = new TypedModuleList<StyledConv>();
        to_rgbs = new TypedModuleList<ToRgb>();
        var inChannels = c4;
        for (var logRes = 3; logRes <= config.LogSize; logRes++)
        {
            var outChannels = config.ChannelsAt(1 << logRes);
            convs.Add(new StyledConv(inChannels, outChannels, config.StyleDim, upsample: true, blurKernel));
            convs.Add(new StyledConv(outChannels, outChannels, config.StyleDim, upsample: false, blurKernel));
            to_rgbs.Add(new ToRgb(outChannels, config.StyleDim, upsample: true, blurKernel));
            inChannels = outChannels;
        }
        noises = new NoiseBuffers(config.NumLayers);

        register_module(nameof(style), style);
        register_module(nameof(input), input);
        register_module(nameof(conv1), conv1);
        register_module(nameof(to_rgb1), to_rgb1);
        register_module(nameof(convs), convs);
        register_module(nameof(to_rgbs), to_rgbs);
        register_module(nameof(noises), noises);

        // The weights belong to the generator, not to whatever dispose scope it happens to be built in.
        foreach (var (_, tensor) in StateDictLoader.Entries(this))
        {
            tensor.DetachFromDisposeScope();
        }
    }

    /// <summary>The network's shape.</summary>
    public StyleGan2Config Config { get; }

    /// <summary>Rows of a W+ latent.</summary>
    public int NLatent => Config.NLatent;

    /// <summary>When true, <c>forward</c> draws fresh N(0,1) noise per layer and per sample instead of using noises.noise_i.</summary>
    public bool RandomizeNoise { get; set; }

    /// <summary>
    /// Where fresh noise is drawn from when noise is randomised; null uses torch's global generator. A trainer gives
    /// its own so that a run can be checkpointed and resumed exactly.
    /// </summary>
    public Generator? NoiseGenerator { get; set; }

    /// <summary>How modulated convolutions are computed; the result is the same up to float rounding.</summary>
    public ModulationMode Modulation { get; set; } = ModulationMode.ScaledActivations;

    /// <summary>
    /// The average w (style_dim,) that truncation pulls toward, or null. The generator keeps its own copy (set a new
    /// value to replace it; it is not part of <see cref="state_dict"/>, as in rosinality's checkpoints).
    /// </summary>
    public Tensor? LatentAvg
    {
        get => _latentAvg.Value;
        set
        {
            Tensor? copy = null;
            if (value is not null)
            {
                if (value.numel() != Config.StyleDim)
                {
                    throw new ArgumentException(
                        $"latent_avg must hold style_dim = {Config.StyleDim} values; got shape ({string.Join(", ", value.shape)}).");
                }
                using var detached = value.detach();
                using var flat = detached.reshape(Config.StyleDim);
                using var typed = flat.to(input.Value.dtype);
                copy = typed.clone().DetachFromDisposeScope();
            }
            _latentAvg.Value?.Dispose();
            _latentAvg.Value = copy;
        }
    }

    /// <summary>PyTorch's order (own parameters, own buffers, then children), not TorchSharp's parameters-then-buffers.</summary>
    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null)
        => StateDictLoader.StateDict(this, destination, prefix);

    /// <summary>Synthesis from W+ (B, n_latent, style_dim), with the noise chosen by <see cref="RandomizeNoise"/>.</summary>
    public override Tensor forward(Tensor wPlus) => Synthesis(wPlus);

    /// <summary>The mapping network: z (B, style_dim) → w (B, style_dim).</summary>
    public Tensor Mapping(Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (z.dim() != 2 || z.shape[1] != Config.StyleDim)
        {
            throw new ArgumentException($"z must have shape (batch, {Config.StyleDim}); got ({string.Join(", ", z.shape)}).", nameof(z));
        }
        return style.forward(z);
    }

    /// <summary>Truncation toward <see cref="LatentAvg"/>: avg + ψ(w − avg), for w of any shape ending in style_dim.</summary>
    public Tensor Truncate(Tensor w, double psi)
    {
        ArgumentNullException.ThrowIfNull(w);
        var avg = _latentAvg.Value ?? throw new InvalidOperationException(
            "Truncation needs the average latent, and this generator has none: load a checkpoint that carries latent_avg " +
            "or set LatentAvg = MeanLatent(4096, rng).");
        using var avgHere = avg.to(w.dtype, w.device);
        return w.sub(avgHere).mul_(psi).add_(avgHere);
    }

    /// <summary>Repeats w (B, style_dim) to W+ (B, n_latent, style_dim), as a broadcast view.</summary>
    public Tensor ExpandToWPlus(Tensor w)
    {
        ArgumentNullException.ThrowIfNull(w);
        return w.unsqueeze(1).expand(-1, Config.NLatent, -1);
    }

    /// <summary>
    /// The synthesis network: W+ (B, n_latent, style_dim) → image (B, 3, size, size). Row 0 drives conv1, row 1
    /// to_rgb1 and convs.0; block k uses rows 2k+1, 2k+2 for its convs and 2k+3 for its ToRGB.
    /// </summary>
    /// <param name="wPlus">The latent.</param>
    /// <param name="randomizeNoise">Fresh noise (true) or the stored noise buffers (false); null follows <see cref="RandomizeNoise"/>.</param>
    /// <param name="skips">When given, receives the RGB skip image after every ToRGB (4 px first; the last equals the output).</param>
    /// <param name="noise">
    /// When given, the noise of every layer (<see cref="StyleGan2Config.NumLayers"/> tensors shaped as <see cref="StoredNoise"/>'s,
    /// with a batch of 1 or of W+'s): used instead of the stored buffers or fresh draws, so a caller can give each sample of
    /// a batch its own noise without writing the generator's buffers.
    /// </param>
    /// <param name="maxSide">
    /// When given (a power of two up to the size), the synthesis stops at the skip image of that side — the RGB the
    /// layers up to it add up to, which the layers above only refine — and returns it (B, 3, maxSide, maxSide); the
    /// layers above are not run. The restorer's losses can see this cheaper image (<c>SairOptions.LossSide</c>).
    /// </param>
    public Tensor Synthesis(Tensor wPlus, bool? randomizeNoise = null, List<Tensor>? skips = null, IReadOnlyList<Tensor>? noise = null,
        int? maxSide = null)
    {
        ArgumentNullException.ThrowIfNull(wPlus);
        if (wPlus.dim() != 3 || wPlus.shape[1] != Config.NLatent || wPlus.shape[2] != Config.StyleDim)
        {
            throw new ArgumentException(
                $"W+ must have shape (batch, {Config.NLatent}, {Config.StyleDim}); got ({string.Join(", ", wPlus.shape)}).", nameof(wPlus));
        }
        if (noise is not null)
        {
            CheckNoise(noise, wPlus.shape[0]);
        }
        if (maxSide is { } side && (side < 4 || side > Config.Size || (side & (side - 1)) != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxSide), maxSide, $"The side to stop at must be a power of two from 4 to {Config.Size}.");
        }
        using var scope = NewDisposeScope();
        var firstSkip = skips?.Count ?? 0;
        var image = SynthesisCore(wPlus, randomizeNoise ?? RandomizeNoise, skips, noise, maxSide ?? Config.Size);
        return Escape(image, skips, firstSkip);
    }

    /// <summary>The stored noise of every layer (the noises.noise_i buffers, (1, 1, s, s)), as views the caller must not write.</summary>
    public IReadOnlyList<Tensor> StoredNoise() => [.. Enumerable.Range(0, Config.NumLayers).Select(layer => noises[layer])];

    private void CheckNoise(IReadOnlyList<Tensor> noise, long batch)
    {
        if (noise.Count != Config.NumLayers)
        {
            throw new ArgumentException($"The noise must hold one tensor per layer ({Config.NumLayers}); got {noise.Count}.", nameof(noise));
        }
        for (var layer = 0; layer < noise.Count; layer++)
        {
            var side = 1L << ((layer + 5) / 2);
            var shape = noise[layer].shape;
            if (shape.Length != 4 || (shape[0] != 1 && shape[0] != batch) || shape[1] != 1 || shape[2] != side || shape[3] != side)
            {
                throw new ArgumentException(
                    $"The noise of layer {layer} must have shape (1 or {batch}, 1, {side}, {side}); got ({string.Join(", ", shape)}).", nameof(noise));
            }
        }
    }

    /// <summary>z (B, style_dim) → mapping → optional truncation (ψ &lt; 1) → repeated to every W+ row → image.</summary>
    public Tensor FromZ(Tensor z, double truncation = 1, bool? randomizeNoise = null, List<Tensor>? skips = null)
    {
        using var scope = NewDisposeScope();
        var w = Mapping(z);
        if (truncation != 1)
        {
            w = Truncate(w, truncation);
        }
        var firstSkip = skips?.Count ?? 0;
        var image = SynthesisCore(ExpandToWPlus(w), randomizeNoise ?? RandomizeNoise, skips, null, Config.Size);
        return Escape(image, skips, firstSkip);
    }

    /// <summary>The mean of the mapping over <paramref name="n"/> random z (rosinality's mean_latent), shape (style_dim,).</summary>
    public Tensor MeanLatent(int n, Generator? rng = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var z = randn([n, Config.StyleDim], generator: rng).to(input.Value.dtype, input.Value.device);
        return style.forward(z).mean([0]).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _latentAvg.Value?.Dispose();
            _latentAvg.Value = null;
        }
        base.Dispose(disposing);
    }

    // maxSide: stop at the skip image of that side (the RGB the layers so far add up to); the layers above are not run.
    private Tensor SynthesisCore(Tensor wPlus, bool randomizeNoise, List<Tensor>? skips, IReadOnlyList<Tensor>? given, int maxSide)
    {
        var batch = wPlus.shape[0];
        var mode = Modulation;
        Tensor Noise(int layer, Tensor like)
        {
            if (given is not null)
            {
                return given[layer];
            }
            if (!randomizeNoise)
            {
                return noises[layer];
            }
            var side = 1L << ((layer + 5) / 2);
            return randn([batch, 1, side, side], dtype: like.dtype, device: like.device, generator: NoiseGenerator);
        }

        var x = conv1.Forward(input.Forward(batch), wPlus.select(1, 0), Noise(0, wPlus), mode);
        var skip = to_rgb1.Forward(x, wPlus.select(1, 1), null, mode);
        skips?.Add(skip);
        for (var k = 0; k < to_rgbs.Count && (4 << k) < maxSide; k++)
        {
            x = convs[2 * k].Forward(x, wPlus.select(1, 2 * k + 1), Noise(2 * k + 1, x), mode);
            x = convs[2 * k + 1].Forward(x, wPlus.select(1, 2 * k + 2), Noise(2 * k + 2, x), mode);
            skip = to_rgbs[k].Forward(x, wPlus.select(1, 2 * k + 3), skip, mode);
            skips?.Add(skip);
        }
        return skip;
    }

    // Moves the image and the skips this call added out of the caller's dispose scope; the last skip is the image
    // itself, so the list gets its own handle to it (disposing the list must not dispose the returned image).
    private static Tensor Escape(Tensor image, List<Tensor>? skips, int firstSkip)
    {
        if (skips is not null)
        {
            skips[^1] = image.alias();
            for (var i = firstSkip; i < skips.Count; i++)
            {
                skips[i].MoveToOuterDisposeScope();
            }
        }
        return image.MoveToOuterDisposeScope();
    }
}
