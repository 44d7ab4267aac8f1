using Sair.Engine.Degradation;
using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.Objective;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration.Terms;

/// <summary>
/// One term of SAIR's objective, declared in one place: its report name (<see cref="LossTerms"/>), which
/// <see cref="SairOptions"/> field weighs it, the networks it needs, its part of the checkpoint fingerprint, and its
/// unweighted value at a step. <see cref="SairRestorer"/> sums weight × value over <see cref="All"/>, in that order.
/// A new term is one new file (a subclass) plus one line in <see cref="All"/>.
/// </summary>
internal abstract class LossTerm
{
    /// <summary>Every term of the objective, in the order they are summed (the order fixes the float sum).</summary>
    public static IReadOnlyList<LossTerm> All { get; } =
    [
        new DataTermStep(),
        new IdentityTermStep(),
        new LatentPriorTermStep(),
        new EmotionTermStep(),
        new HistogramTermStep(),
        new GeoCrossTermStep(),
    ];

    /// <summary>The key of its weighted value in <see cref="IterationReport.Terms"/>.</summary>
    public abstract string Name { get; }

    /// <summary>The <see cref="SairOptions"/> property that holds its weight (for messages).</summary>
    public abstract string WeightOption { get; }

    /// <summary>Its weight in <paramref name="options"/>; 0 switches it off.</summary>
    public abstract double Weight(SairOptions options);

    /// <summary>The settings that shape it (its weight among them), for <see cref="SairOptions"/>' checkpoint fingerprint.</summary>
    public abstract IEnumerable<object?> Fingerprint(SairOptions options);

    /// <summary>Throws naming what to pass when a network it needs is missing; called only when it is on.</summary>
    public virtual void RequireNetworks(TermNetworks networks, SairOptions options)
    {
    }

    /// <summary>Its unweighted value at this step, <see cref="TermValue.Skip"/> when it sits this one out, or a failure.</summary>
    public abstract TermValue Evaluate(ITermContext context, TermStep step);

    /// <summary>"the identity term", for messages.</summary>
    public string Words => $"the {Name.Replace('_', ' ')} term";
}

/// <summary>The networks a restorer was given, as the terms check them.</summary>
internal sealed record TermNetworks(
    IIdentityNetwork? Identity, ILandmarkDetector? Landmarks, IExpressionClassifier? Expressions, EmotionDirections? EmotionDirections);

/// <summary>
/// One step: the iteration, the rendering x = G(w) in [0, 1] and the latent w; and T(x) when the pass computed it for
/// several runs at once (null: the identity term embeds x itself).
/// </summary>
internal readonly record struct TermStep(int Iteration, Tensor X, Tensor W, Tensor? Embedding = null);

/// <summary>A term's value at a step: a tensor, nothing (the term is off this step), or what went non-finite.</summary>
internal readonly record struct TermValue(Tensor? Value, string? Failure)
{
    public static TermValue Skip => default;

    public static TermValue Of(Tensor value) => new(value, null);

    public static TermValue Failed(string what) => new(null, what);
}

/// <summary>What a run fixed once, which the terms read at every step (the restorer's run implements it).</summary>
internal interface ITermContext
{
    SairOptions Options { get; }

    /// <summary>The degraded input Y in [0, 1].</summary>
    Tensor Y { get; }

    /// <summary>The degradation operator D.</summary>
    DegradationOperator Degradation { get; }

    /// <summary>w_z, where the optimisation starts.</summary>
    Tensor ReferenceLatent { get; }

    /// <summary>T(Z) (or T(G(w_z))); null without an identity network.</summary>
    Tensor? ReferenceEmbedding { get; }

    IIdentityNetwork? Identity { get; }

    /// <summary>Δw_e of the target emotion; null when the emotion term is off.</summary>
    Tensor? EmotionDirection { get; }

    /// <summary>γ of the target emotion.</summary>
    double EmotionGamma { get; }

    /// <summary>Y at the histogram's comparison size; null when the histogram term is off.</summary>
    Tensor? HistogramTarget { get; }

    /// <summary>The side of the histogram's comparison images.</summary>
    int HistogramSide { get; }

    /// <summary>The paper's differentiable histogram, or null for the official hard one.</summary>
    SoftHistogramLoss? SoftHistogram { get; }

    /// <summary>Where the identity term last ran its net, for <see cref="SairOptions.IdentityInterval"/> above 1.</summary>
    IdentityExpansion IdentityExpansion { get; }

    /// <summary>
    /// The face mask for <paramref name="generated"/> (G(w) at the histogram's size), refreshed from its landmarks every
    /// <see cref="SairOptions.MaskInterval"/> steps; null when the landmarks came out non-finite.
    /// </summary>
    Tensor? FaceMask(Tensor generated, int iteration);
}

/// <summary>
/// The identity term where its net last ran: the image x₀, the term's value v₀ there and its gradient g₀ with respect
/// to the image (<see cref="SairOptions.IdentityInterval"/>). A run owns one and disposes it.
/// </summary>
internal sealed class IdentityExpansion : IDisposable
{
    public Tensor? Point { get; private set; }

    public Tensor? Gradient { get; private set; }

    public Tensor? Value { get; private set; }

    /// <summary>The iteration the net last ran at.</summary>
    public int Iteration { get; private set; } = -1;

    /// <summary>
    /// Whether the net runs at <paramref name="iteration"/> (and has not yet): every <see cref="SairOptions.IdentityInterval"/>
    /// iterations, and at every checkpoint iteration too — a run resumed there has nothing kept and must run the net,
    /// so the uninterrupted run does the same and the two stay identical — and where a <see cref="SairOptions.LossSide"/>
    /// run turns to the full size (what was kept has the other side).
    /// </summary>
    public bool DueAt(int iteration, SairOptions options) =>
        Point is null
        || (Iteration != iteration
            && (iteration % options.IdentityInterval == 0 || (options.CheckpointInterval > 0 && iteration % options.CheckpointInterval == 0)
                || (options.LossSide is not null && iteration == options.FirstFullSizeIteration)));

    /// <summary>Replaces what was kept; takes the tensors out of the caller's dispose scope.</summary>
    public void Keep(int iteration, Tensor point, Tensor gradient, Tensor value)
    {
        Dispose();
        Iteration = iteration;
        Point = point.DetachFromDisposeScope();
        Gradient = gradient.DetachFromDisposeScope();
        Value = value.DetachFromDisposeScope();
    }

    public void Dispose()
    {
        Point?.Dispose();
        Gradient?.Dispose();
        Value?.Dispose();
        (Point, Gradient, Value) = (null, null, null);
    }
}
