using Sair.Engine.Objective;

namespace Sair.Engine.Restoration.Terms;

/// <summary>
/// L_hist: the skin colour of G(w) inside the face mask (the hull of its 68 landmarks) against Y's (paper eq. 7: the
/// soft histogram; official: the hard one from <see cref="SairOptions.HistogramFirstIteration"/> on).
/// </summary>
internal sealed class HistogramTermStep : LossTerm
{
    public override string Name => LossTerms.Histogram;

    public override string WeightOption => nameof(SairOptions.HistogramWeight);

    public override double Weight(SairOptions options) => options.HistogramWeight;

    public override IEnumerable<object?> Fingerprint(SairOptions options) =>
    [
        options.HistogramForm, options.HistogramWeight, options.HistogramFirstIteration, options.SoftHistogramBins,
        options.HistogramSide, options.MaskInterval,
    ];

    public override void RequireNetworks(TermNetworks networks, SairOptions options)
    {
        if (networks.Landmarks is null)
        {
            throw new ArgumentException("The skin-colour term needs a landmark detector for its face mask: pass an ILandmarkDetector or set HistogramWeight = 0.");
        }
    }

    public override TermValue Evaluate(ITermContext context, TermStep step)
    {
        if (context.HistogramTarget is not { } target || step.Iteration < context.Options.HistogramFirstIteration)
        {
            return TermValue.Skip;
        }
        var generated = HistogramLoss.ToComparisonSize(step.X, context.HistogramSide);
        if (context.FaceMask(generated, step.Iteration) is not { } mask)
        {
            return TermValue.Failed($"the face landmarks of {Words}");
        }
        return TermValue.Of(context.SoftHistogram is { } soft
            ? soft.Compute(generated, target, mask)
            : HistogramLoss.Compute(generated, target, mask));
    }
}
