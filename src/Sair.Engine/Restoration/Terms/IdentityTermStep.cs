using TorchSharp;

namespace Sair.Engine.Restoration.Terms;

/// <summary>L_ID = 1 − cos(T(G(w)), T(Z)): the identity network's similarity to the reference (paper eq. 4).</summary>
internal sealed class IdentityTermStep : LossTerm
{
    public override string Name => LossTerms.Identity;

    public override string WeightOption => nameof(SairOptions.IdentityWeight);

    public override double Weight(SairOptions options) => options.IdentityWeight;

    // The interval joins the fingerprint only when it is not the paper's 1, so checkpoints made before it existed still resume.
    public override IEnumerable<object?> Fingerprint(SairOptions options) =>
        options.IdentityInterval == 1 ? [options.IdentityWeight] : [options.IdentityWeight, $"every {options.IdentityInterval}"];

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
        if (context.Options.IdentityInterval == 1)
        {
            var similarity = identity.Similarity(step.Embedding ?? identity.Embed(step.X), context.ReferenceEmbedding!).mean();
            return TermValue.Of(1 - similarity);
        }

        // Every IdentityInterval iterations the net runs and its value and image-space gradient are kept; the term is
        // then v₀ + ⟨g₀, x − x₀⟩, exact (in value and gradient) where x = x₀ and its first-order expansion elsewhere.
        // (A batched pass may have run the net for this step already, for several runs at once.)
        var kept = context.IdentityExpansion;
        if (kept.DueAt(step.Iteration, context.Options))
        {
            using var scope = torch.NewDisposeScope();
            var x = step.X.detach().requires_grad_(true);
            using var enabled = torch.enable_grad();
            var value = 1 - identity.Similarity(identity.Embed(x), context.ReferenceEmbedding!).mean();
            var gradient = torch.autograd.grad([value], [x])[0];
            kept.Keep(step.Iteration, x.detach(), gradient.detach(), value.detach());
        }
        return TermValue.Of(kept.Value! + (kept.Gradient! * (step.X - kept.Point!)).sum());
    }
}
