using System.Globalization;
using Sair.Engine.Objective;
using Sair.Engine.Restoration.Terms;

namespace Sair.Engine.Restoration;

/// <summary>Which formulation a term follows (spec §2).</summary>
public enum TermForm
{
    /// <summary>The paper's definition.</summary>
    Paper,

    /// <summary>The authors' published code.</summary>
    Official,
}

/// <summary>How the learning rate evolves over the iterations.</summary>
public enum LearningRateSchedule
{
    Constant,

    /// <summary><see cref="LrSchedule.Official"/>: cosine ramp-down over the last quarter, linear ramp-up over the first 5 %.</summary>
    Official,
}

/// <summary>The cumulative ablation stages of the paper's Fig. 7.</summary>
public enum AblationStage
{
    /// <summary>Data term only.</summary>
    DataOnly,

    /// <summary>+ identity (and its latent prior).</summary>
    WithIdentity,

    /// <summary>+ skin-colour histogram.</summary>
    WithHistogram,

    /// <summary>+ emotion: the full objective.</summary>
    WithEmotion,
}

/// <summary>
/// Everything that defines one restoration run (paper eq. 8 and spec §2–3). Start from <see cref="Paper"/> (the default)
/// or <see cref="Official"/> and change single values with <c>with { … }</c>. A weight of 0 switches its term off.
/// </summary>
public sealed record SairOptions
{
    /// <summary>Adam iterations N.</summary>
    public int Iterations { get; init; } = 400;

    /// <summary>Base learning rate of Adam.</summary>
    public double LearningRate { get; init; } = 0.1;

    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Paper: ‖Y − D(G(w))‖²_F. Official: mean squared error per image clamped at 1e-4.</summary>
    public TermForm DataForm { get; init; } = TermForm.Paper;

    public double DataWeight { get; init; } = 1;

    /// <summary>σ of the Gaussian blur in D, in pixels of the generator's output; null for none (both presets).</summary>
    public double? BlurSigma { get; init; }

    /// <summary>Quality of the differentiable JPEG stage in D (the official code optionally uses 10); null for none.</summary>
    public double? JpegQuality { get; init; }

    /// <summary>Weight of 1 − cos(T(Z), T(G(w))).</summary>
    public double IdentityWeight { get; init; } = 1;

    /// <summary>
    /// The identity net runs every this many iterations (1: every one, as the paper). Above 1, the term is taken at
    /// an iteration where the net runs as its value v₀ and its gradient g₀ in image space at x₀ = G(w), and in between
    /// as the first-order expansion v₀ + ⟨g₀, G(w) − x₀⟩: exact in value and gradient where the net ran, and G's own
    /// Jacobian carries g₀ to w at every iteration, so only the identity net's forward and backward are saved. The net
    /// also runs at every checkpoint iteration, so a resumed run equals the uninterrupted one.
    /// </summary>
    public int IdentityInterval { get; init; } = 1;

    /// <summary>λ of the latent prior λ·Σ(w − w_z)² (a sum over all n_latent × style_dim entries in both presets).</summary>
    public double LatentPriorWeight { get; init; } = 0.001;

    /// <summary>Paper: 1 − cos(w + γΔw, Δw) over the whole code. Official: 1 − mean_l |cos(w_l, d_l)|.</summary>
    public TermForm EmotionForm { get; init; } = TermForm.Paper;

    /// <summary>α1.</summary>
    public double EmotionWeight { get; init; } = EmotionTerm.Weight;

    /// <summary>The intended expression (one of <see cref="FaceNets.Emotions.Names"/>); null lets the expression classifier infer it from Y.</summary>
    public string? Emotion { get; init; }

    /// <summary>
    /// When true the output is rendered as G(w + γ·Δw_e) (official); when false as G(w) (paper, where γ acts inside the
    /// term). Only matters while the emotion term is on.
    /// </summary>
    public bool RenderWithEmotionShift { get; init; }

    /// <summary>Paper: <see cref="SoftHistogramLoss"/> (L1 of the CDFs). Official: <see cref="HistogramLoss"/> (YUV, squared).</summary>
    public TermForm HistogramForm { get; init; } = TermForm.Paper;

    /// <summary>α2 (official: 0.05/65536 on the raw-count EMD).</summary>
    public double HistogramWeight { get; init; } = SoftHistogramLoss.Weight;

    /// <summary>The first iteration (0-based) that includes the histogram term.</summary>
    public int HistogramFirstIteration { get; init; }

    /// <summary>Bins of the paper's soft histogram.</summary>
    public int SoftHistogramBins { get; init; } = 64;

    /// <summary>Side at which G(w), Y and the mask are compared (the official code: 256); capped at the generator's size.</summary>
    public int HistogramSide { get; init; } = HistogramLoss.ComparisonSide;

    /// <summary>
    /// The side at which the loss terms see G(w) during the iterations: the generator's skip image at that side (a
    /// power of two, at least Y's side), so the layers above it are not run until the result, which is rendered at full
    /// size. D then maps that side to Y's and the blur σ is scaled with it. Null (both presets): the full size.
    /// </summary>
    public int? LossSide { get; init; }

    /// <summary>
    /// With <see cref="LossSide"/>: the last this many iterations see the full size (coarse to fine), so the layers
    /// above LossSide take part in the optimisation before the result is rendered. 0: none.
    /// </summary>
    public int FullSizeLastIterations { get; init; }

    /// <summary>The first iteration whose losses see the full size (0 without <see cref="LossSide"/>).</summary>
    internal int FirstFullSizeIteration => LossSide is null ? 0 : Math.Max(0, Iterations - FullSizeLastIterations);

    /// <summary>The landmark hull mask of G(w) is recomputed every this many iterations (the official code: every one).</summary>
    public int MaskInterval { get; init; } = 10;

    /// <summary>Weight of GEOCROSS (official 0.05; the paper has no such term).</summary>
    public double GeoCrossWeight { get; init; }

    /// <summary>Paper: (x + 1)/2 clamped. Official: clamp to [−1, 1] then min–max with detached extremes.</summary>
    public TermForm OutputNormalization { get; init; } = TermForm.Paper;

    /// <summary>Fresh N(0,1) noise every forward pass (official) instead of the generator's fixed noise buffers.</summary>
    public bool RandomizeNoise { get; init; }

    /// <summary>Seeds every random draw of a run (fresh noise, the mean latent of a projection).</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Steps of <see cref="Degradation.BackProjection"/> applied to the final image (0 in both of the authors'
    /// presets): the result is moved toward D(x) = Y, so its low frequencies come from the input.
    /// </summary>
    public int BackProjectionSteps { get; init; }

    /// <summary>A checkpoint is handed out after every this many iterations; 0 for none.</summary>
    public int CheckpointInterval { get; init; }

    /// <summary>How the reference photo is projected into W+ when no latent is given.</summary>
    public ProjectionOptions Projection { get; init; } = new();

    /// <summary>
    /// Pivotal tuning of the generator to the reference photo before the optimisation (off in the authors' presets);
    /// needs the reference photo Z.
    /// </summary>
    public PivotalTuningOptions PivotalTuning { get; init; } = new();

    /// <summary>The paper's formulation (spec §2, left column); the default.</summary>
    public static SairOptions Paper() => new();

    /// <summary>
    /// <see cref="Paper"/>, then 5 steps of back-projection onto the input (preset <c>paper-bp</c>; not from the paper:
    /// chosen by the quality benchmark's ablation, docs/quality.md).
    /// </summary>
    public static SairOptions PaperBackProjected() => new() { BackProjectionSteps = 5 };

    /// <summary>
    /// <see cref="PaperBackProjected"/> with the generator first tuned to the reference photo (preset <c>paper-pti</c>;
    /// not from the paper: chosen by the quality benchmark, docs/quality.md): <see cref="PivotalTuningSteps"/> Adam
    /// steps at <see cref="PivotalTuningOptions.LearningRate"/>'s default on the synthesis weights around w_z. Without a reference photo
    /// there is nothing to tune to, and the engine restores as <see cref="PaperBackProjected"/>. The identity net runs
    /// every <see cref="PivotalTunedIdentityInterval"/> iterations (<see cref="IdentityInterval"/>): the same scores on
    /// the benchmark, and 1.19× the iterations per second at 64 px (1.22× on top of batching 8 faces).
    /// </summary>
    public static SairOptions PaperPivotalTuned() => PaperBackProjected() with
    {
        PivotalTuning = new PivotalTuningOptions { Steps = PivotalTuningSteps },
        IdentityInterval = PivotalTunedIdentityInterval,
    };

    /// <summary>Iterations between two runs of the identity net in preset <c>paper-pti</c> (docs/quality.md, docs/benchmarks.md).</summary>
    public const int PivotalTunedIdentityInterval = 2;

    /// <summary>Pivotal tuning steps of preset <c>paper-pti</c>.</summary>
    public const int PivotalTuningSteps = 150;

    /// <summary>
    /// The SAIR authors' published code (spec §2, right column): data 120 × per-image MSE clamped at 1e-4;
    /// identity 0.4 × (1 − cos) + 0.001 × Σ(w − w_z)²; emotion 0.1 × (1 − mean |cos|) with the output rendered at
    /// w + γ·d; YUV histogram × 0.05/65536 from iteration 201 with the mask recomputed every iteration; GEOCROSS × 0.05;
    /// the rosinality lr schedule; clamp + min–max output normalisation; fresh noise every pass; 400 iterations.
    /// D is the PULSE bicubic ↓s alone; the official code's optional JPEG stage is <c>with { JpegQuality = 10 }</c>.
    /// </summary>
    /// <remarks>
    /// Known defects of the official code that are NOT reproduced: (1) <c>happy</c> loads the surprise direction;
    /// (2) the landmark hull mask is left at 0/255 instead of 0/1, which pushes almost every masked pixel out of the
    /// histogram range; (3) the image it saves is the one from iteration 380, not the last. Here every emotion uses its
    /// own direction, the mask is 0/1 and the result is rendered from the final latent.
    /// </remarks>
    public static SairOptions Official() => new()
    {
        Schedule = LearningRateSchedule.Official,
        DataForm = TermForm.Official,
        DataWeight = DataTerm.OfficialWeight,
        IdentityWeight = 0.4,
        LatentPriorWeight = 0.001,
        EmotionForm = TermForm.Official,
        EmotionWeight = EmotionTerm.Weight,
        RenderWithEmotionShift = true,
        HistogramForm = TermForm.Official,
        HistogramWeight = HistogramLoss.OfficialWeight,
        HistogramFirstIteration = HistogramLoss.OfficialFirstStep,
        MaskInterval = 1,
        GeoCrossWeight = GeoCross.OfficialWeight,
        OutputNormalization = TermForm.Official,
        RandomizeNoise = true,
    };

    /// <summary>These options with the terms beyond <paramref name="stage"/> switched off (paper Fig. 7).</summary>
    public SairOptions ForAblation(AblationStage stage) => this with
    {
        IdentityWeight = stage >= AblationStage.WithIdentity ? IdentityWeight : 0,
        LatentPriorWeight = stage >= AblationStage.WithIdentity ? LatentPriorWeight : 0,
        HistogramWeight = stage >= AblationStage.WithHistogram ? HistogramWeight : 0,
        EmotionWeight = stage >= AblationStage.WithEmotion ? EmotionWeight : 0,
    };

    /// <summary>The learning rate used at 0-based iteration <paramref name="iteration"/>.</summary>
    public double LearningRateAt(int iteration) => Schedule switch
    {
        LearningRateSchedule.Official => LrSchedule.Official(iteration, Iterations, LearningRate),
        _ => LearningRate,
    };

    /// <summary>Throws with the offending setting named when a value is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Iterations, 1, nameof(Iterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaskInterval, 1, nameof(MaskInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(IdentityInterval, 1, nameof(IdentityInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(CheckpointInterval, 0, nameof(CheckpointInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(BackProjectionSteps, 0, nameof(BackProjectionSteps));
        ArgumentOutOfRangeException.ThrowIfLessThan(HistogramFirstIteration, 0, nameof(HistogramFirstIteration));
        ArgumentOutOfRangeException.ThrowIfLessThan(HistogramSide, 8, nameof(HistogramSide));
        ArgumentOutOfRangeException.ThrowIfLessThan(SoftHistogramBins, 2, nameof(SoftHistogramBins));
        if (LossSide is { } side && (side < 4 || (side & (side - 1)) != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(LossSide), side, "LossSide must be a power of two, 4 or more (or null for the generator's size).");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(FullSizeLastIterations, 0, nameof(FullSizeLastIterations));
        foreach (var (name, value) in LossTerm.All.Select(term => (term.WeightOption, term.Weight(this)))
                     .Prepend((nameof(LearningRate), LearningRate)).Append((nameof(Epsilon), Epsilon)))
        {
            if (!(value >= 0) || double.IsInfinity(value))
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number ≥ 0.");
            }
        }
        if (!(Beta1 is >= 0 and < 1) || !(Beta2 is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Beta1), $"Adam's betas must lie in [0, 1); got ({Beta1}, {Beta2}).");
        }
        Projection.Validate();
        PivotalTuning.Validate();
    }

    /// <summary>
    /// Every setting that changes the optimisation path, culture-invariant; a checkpoint only resumes under the same
    /// fingerprint. Each loss term adds its own settings (<see cref="LossTerm.Fingerprint"/>). (CheckpointInterval is
    /// left out: it changes when checkpoints are handed out, not the result.)
    /// </summary>
    internal string Fingerprint() => string.Join(";", new object?[] { Iterations, LearningRate, Schedule, Beta1, Beta2, Epsilon }
        .Concat(LossTerm.All.SelectMany(term => term.Fingerprint(this)))
        .Concat([OutputNormalization, RandomizeNoise, Seed, BackProjectionSteps, PivotalTuning.Fingerprint()])
        .Concat(LossSide is { } side ? [$"loss-side {side} then full for {FullSizeLastIterations}"] : Array.Empty<object?>())
        .Select(v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "-"));
}

/// <summary>How a reference photo Z is projected into W+ when no latent is supplied (spec §3).</summary>
public sealed record ProjectionOptions
{
    public int Iterations { get; init; } = 200;

    public double LearningRate { get; init; } = 0.1;

    /// <summary>Side both G(w) and Z are reduced to for the pixel MSE (downsampled images, as the spec asks).</summary>
    public int PixelSide { get; init; } = 64;

    /// <summary>Weight of 1 − cos(T(Z), T(G(w))) when an identity network is available.</summary>
    public double IdentityWeight { get; init; } = 0.4;

    /// <summary>Random z whose mapping is averaged for the start latent when the generator has no latent_avg.</summary>
    public int MeanLatentSamples { get; init; } = 4096;

    public long Seed { get; init; }

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Iterations, 1, nameof(Iterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(PixelSide, 4, nameof(PixelSide));
        ArgumentOutOfRangeException.ThrowIfLessThan(MeanLatentSamples, 1, nameof(MeanLatentSamples));
        if (!(LearningRate > 0) || !(IdentityWeight >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), "The projection needs LearningRate > 0 and IdentityWeight ≥ 0.");
        }
    }
}
