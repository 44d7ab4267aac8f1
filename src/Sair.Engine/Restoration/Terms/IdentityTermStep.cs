namespace Sair.Engine.Restoration.Terms;

/// <summary>L_ID = 1 − cos(T(G(w)), T(Z)): the identity network's similarity to the reference (paper eq. 4).</summary>
internal sealed class IdentityTermStep : LossTerm
{
    public override string Name => LossTerms.Identity;

    public override string WeightOption => nameof(SairOptions.IdentityWeight);

    public override double Weight(SairOptions options) => options.IdentityWeight;

    public override IEnumerable<object?> Fingerprint(SairOptions options) => [options.IdentityWeight];

    public override void RequireNetworks(TermNetworks networks, SairOptions options)
    {
        if (networks.Identity is null)
        {
            throw new ArgumentException("The identity term is on but no identity network was given: pass an IIdentityNetwork or set IdentityWeight = 0.");
        }
    }

    public override TermValue Evaluate(ITermContext context, TermStep step)
    {
        var identity = context.Identity!;
        var similarity = identity.Similarity(step.Embedding ?? identity.Embed(step.X), context.ReferenceEmbedding!).mean();
        return TermValue.Of(1 - similarity);
    }
}
