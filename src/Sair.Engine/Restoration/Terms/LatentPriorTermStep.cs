namespace Sair.Engine.Restoration.Terms;

/// <summary>‖w − w_z‖²: keeps the latent near the reference's inversion (the paper's latent prior).</summary>
internal sealed class LatentPriorTermStep : LossTerm
{
    public override string Name => LossTerms.LatentPrior;

    public override string WeightOption => nameof(SairOptions.LatentPriorWeight);

    public override double Weight(SairOptions options) => options.LatentPriorWeight;

    public override IEnumerable<object?> Fingerprint(SairOptions options) => [options.LatentPriorWeight];

    public override TermValue Evaluate(ITermContext context, TermStep step) =>
        TermValue.Of((step.W - context.ReferenceLatent).pow(2).sum());
}
