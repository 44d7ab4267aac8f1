using Sair.Engine.Objective;

namespace Sair.Engine.Restoration.Terms;

/// <summary>GEOCROSS: holds the rows of W+ near each other, as the official code and PULSE do (<see cref="GeoCross"/>).</summary>
internal sealed class GeoCrossTermStep : LossTerm
{
    public override string Name => LossTerms.GeoCross;

    public override string WeightOption => nameof(SairOptions.GeoCrossWeight);

    public override double Weight(SairOptions options) => options.GeoCrossWeight;

    public override IEnumerable<object?> Fingerprint(SairOptions options) => [options.GeoCrossWeight];

    public override TermValue Evaluate(ITermContext context, TermStep step) => TermValue.Of(GeoCross.Compute(step.W));
}
