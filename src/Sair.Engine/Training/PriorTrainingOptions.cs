using Sair.Engine.StyleGan;

namespace Sair.Engine.Training;

/// <summary>
/// The recipe of a small StyleGAN2 face prior trained on the CPU. Defaults follow StyleGAN2 (Karras et al. 2020) and
/// StyleGAN2-ADA's automatic low-resolution config (Karras et al. 2020b), narrowed for a CPU budget of about 10⁵
/// images per few hours (docs/ENVIRONMENT.md): non-saturating logistic loss, Adam (β₁ 0, β₂ 0.99, lr 0.002), lazy R1
/// every 16 steps with the ADA heuristic γ = 0.0002·size²/batch, path-length regularisation off by default (it costs a
/// double-backward generator pass and only smooths the latent space), style mixing with probability 0.9, an EMA generator with
/// ADA's half-life of 10k images per 32 batch and a 5 % ramp-up, and DiffAugment 'color,translation,cutout' on both
/// real and generated images because 17k faces are few for a GAN.
/// </summary>
public sealed record PriorTrainingOptions
{
    /// <summary>Output side in pixels (32 or 64 for a real run; 8 or 16 in tests); a power of two ≥ 8.</summary>
    public int Size { get; init; } = 32;

    /// <summary>Width of z and w.</summary>
    public int StyleDim { get; init; } = 256;

    /// <summary>Depth of the mapping network (StyleGAN2's 8 is more than a 32-px prior needs).</summary>
    public int NMlp { get; init; } = 4;

    /// <summary>
    /// Channels per resolution (4 … Size) for both G and D; null takes <see cref="DefaultChannels"/>: 64 up to 32 px and
    /// 32 at 64 px, the widest table that trains at a few images per second on two cores.
    /// </summary>
    public IReadOnlyDictionary<int, int>? Channels { get; init; }

    /// <summary>Images per step (a multiple of 4, the minibatch-stddev group).</summary>
    public int Batch { get; init; } = 16;

    /// <summary>Adam learning rate of both networks (before the lazy-regularisation correction of D).</summary>
    public double LearningRate { get; init; } = 0.002;

    /// <summary>Adam β₁ (0: StyleGAN2 uses no momentum).</summary>
    public double Beta1 { get; init; }

    /// <summary>Adam β₂.</summary>
    public double Beta2 { get; init; } = 0.99;

    /// <summary>Adam ε.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>R1 weight γ; null for ADA's heuristic 0.0002·size²/batch.</summary>
    public double? R1Gamma { get; init; }

    /// <summary>
    /// Steps between R1 evaluations (lazy regularisation). The penalty is scaled by this interval, and D's Adam runs
    /// with lr·c and β^c, c = interval/(interval+1), as in StyleGAN2.
    /// </summary>
    public int R1Interval { get; init; } = 16;

    /// <summary>
    /// Weight of StyleGAN2's path-length regulariser (2 in the paper); 0, the default, leaves it off: on the CPU it
    /// costs a double-backward generator pass and serves latent-space smoothness rather than image quality.
    /// </summary>
    public double PathLengthWeight { get; init; }

    /// <summary>Steps between path-length evaluations (lazy; G's Adam is slowed by interval/(interval+1) when on).</summary>
    public int PathLengthInterval { get; init; } = 4;

    /// <summary>The path-length batch is the training batch divided by this (StyleGAN2's path_batch_shrink).</summary>
    public int PathLengthBatchShrink { get; init; } = 2;

    /// <summary>Decay of the running mean path length a.</summary>
    public double PathLengthDecay { get; init; } = 0.01;

    /// <summary>Probability that a batch mixes two latents at a random crossover layer.</summary>
    public double MixingProbability { get; init; } = 0.9;

    /// <summary>EMA half-life in images; null for ADA's 10 000·batch/32.</summary>
    public double? EmaHalfLifeImages { get; init; }

    /// <summary>EMA ramp-up: the half-life is at most this fraction of the images seen (0 disables).</summary>
    public double EmaRampUp { get; init; } = 0.05;

    /// <summary>
    /// StyleGAN2's per-layer noise inputs. Off, G is trained with zero noise and its noise strengths held at 0 (also
    /// when a branch turns them off from a run that had them), so the exported prior draws every detail from w. Measured
    /// on this project's small priors: their samples' horizontal strokes across eyes and mouth vanish when the noise maps
    /// are zeroed, although each learned strength is below 0.02 (priors/training/aligned-64/README.md).
    /// </summary>
    public bool NoiseInputs { get; init; } = true;

    /// <summary>Apply DiffAugment ('color,translation,cutout') to D's inputs.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>How the modulated convolutions run; <see cref="ModulationMode.ScaledActivations"/> measured faster for training on CPU.</summary>
    public ModulationMode Modulation { get; init; } = ModulationMode.ScaledActivations;

    /// <summary>Seed of the initial weights, the training draws and the data order.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Length of a run in images shown to D (real); <see cref="PriorTrainer.RunAsync"/> stops there.</summary>
    public long TotalImages { get; init; } = 200_000;

    /// <summary>Steps between checkpoints written by <see cref="PriorTrainer.RunAsync"/>.</summary>
    public int CheckpointEvery { get; init; } = 500;

    /// <summary>Steps between sample grids (0 disables).</summary>
    public int SampleEvery { get; init; } = 500;

    /// <summary>Images in a sample grid (fixed z, 8 per row).</summary>
    public int SampleCount { get; init; } = 32;

    /// <summary>Steps between FFD evaluations (0 disables).</summary>
    public int FfdEvery { get; init; } = 2000;

    /// <summary>Generated and real faces per FFD evaluation.</summary>
    public int FfdSamples { get; init; } = 1000;

    /// <summary>Crop applied to images outside the folders named in <see cref="CropsBySubfolder"/>.</summary>
    public CropBox DefaultCrop { get; init; } = CropBox.Full;

    /// <summary>
    /// Crop per top-level sub-folder of the data folder. Null uses <see cref="DefaultCropsBySubfolder"/>, chosen by
    /// looking at both sources side by side at 96 px: UTKFace's aligned chips show the face at about two thirds of the
    /// width, eyes at about 43 % of the height and the chin near 85 %; the 150-px deep-funneled LFW crops show a
    /// smaller face with more hair, shoulders and background. Cutting LFW to its central 82 % square, lifted to start
    /// 7 % from the top, gives the same face scale and eye height, while a tighter 70 % cut already made LFW faces
    /// larger than UTKFace's. UTKFace is used whole.
    /// </summary>
    public IReadOnlyDictionary<string, CropBox>? CropsBySubfolder { get; init; }

    /// <summary>
    /// LFW-style person names (file name before its last _NNNN) whose photos are never trained on. Null holds out
    /// <see cref="HoldoutList.Committed"/> (<c>priors/holdout/lfw-people.txt</c>), the people the quality benchmark
    /// restores; an empty list trains on every photo.
    /// </summary>
    public IReadOnlyList<string>? HeldOutPeople { get; init; }

    /// <summary>The people actually held out (see <see cref="HeldOutPeople"/>).</summary>
    public HoldoutList Holdout() => HeldOutPeople is null ? HoldoutList.Committed : new HoldoutList(HeldOutPeople);

    /// <summary>Use at most this many images (0: all).</summary>
    public int MaxImages { get; init; }

    /// <summary>The crops used when <see cref="CropsBySubfolder"/> is null.</summary>
    public static IReadOnlyDictionary<string, CropBox> DefaultCropsBySubfolder { get; } =
        new Dictionary<string, CropBox> { ["lfw"] = new(0.09, 0.07, 0.82, 0.82), ["utkface"] = CropBox.Full };

    /// <summary>64 channels up to 32 px, 32 above.</summary>
    public static IReadOnlyDictionary<int, int> DefaultChannels(int size)
    {
        var table = new Dictionary<int, int>();
        for (var r = 4; r <= size; r *= 2)
        {
            table[r] = r <= 32 ? 64 : 32;
        }
        return table;
    }

    /// <summary>The generator's shape.</summary>
    public StyleGan2Config GeneratorConfig() =>
        new() { Size = Size, StyleDim = StyleDim, NMlp = NMlp, Channels = Channels ?? DefaultChannels(Size) };

    /// <summary>γ actually used.</summary>
    public double EffectiveR1Gamma => R1Gamma ?? 0.0002 * Size * Size / Batch;

    /// <summary>EMA half-life actually used, before the ramp-up.</summary>
    public double EffectiveEmaHalfLife => EmaHalfLifeImages ?? 10_000.0 * Batch / 32;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the bad option.</summary>
    public void Validate()
    {
        GeneratorConfig().Validate();
        if (Batch < 1 || (Batch > StyleGan2Discriminator.StddevGroup && Batch % StyleGan2Discriminator.StddevGroup != 0))
        {
            throw new ArgumentException($"Batch must be positive and a multiple of {StyleGan2Discriminator.StddevGroup} above it (got {Batch}).");
        }
        if (!(LearningRate > 0) || Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1 || !(Epsilon > 0))
        {
            throw new ArgumentException("LearningRate and Epsilon must be positive and the Adam betas in [0, 1).");
        }
        if (R1Interval < 1 || EffectiveR1Gamma < 0)
        {
            throw new ArgumentException("R1Interval must be ≥ 1 and R1Gamma ≥ 0.");
        }
        if (PathLengthWeight < 0 || PathLengthInterval < 1 || PathLengthBatchShrink < 1 || PathLengthDecay is <= 0 or > 1)
        {
            throw new ArgumentException("PathLengthWeight must be ≥ 0, PathLengthInterval and PathLengthBatchShrink ≥ 1, PathLengthDecay in (0, 1].");
        }
        if (MixingProbability is < 0 or > 1 || EmaRampUp < 0 || !(EffectiveEmaHalfLife > 0))
        {
            throw new ArgumentException("MixingProbability must be in [0, 1], EmaRampUp ≥ 0 and the EMA half-life positive.");
        }
        if (CheckpointEvery < 1 || SampleEvery < 0 || FfdEvery < 0 || SampleCount < 1 || (FfdEvery > 0 && FfdSamples < 2))
        {
            throw new ArgumentException("CheckpointEvery and SampleCount must be ≥ 1, SampleEvery/FfdEvery ≥ 0, FfdSamples ≥ 2.");
        }
        DefaultCrop.Validate();
        foreach (var crop in (CropsBySubfolder ?? DefaultCropsBySubfolder).Values)
        {
            crop.Validate();
        }
    }
}
