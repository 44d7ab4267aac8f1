using Sair.Engine.FaceNets.Identity;
using TorchSharp;
using static TorchSharp.torch;

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
            Expand(identity, [(kept, step.Iteration, step.X, context.ReferenceEmbedding!)]);
        }
        return TermValue.Of(kept.Value! + (kept.Gradient! * (step.X - kept.Point!)).sum());
    }

    /// <summary>
    /// Runs <paramref name="identity"/> once on the renderings of several runs (their own step or a batched pass's) and
    /// keeps, for each, the term's value 1 − cos(T(x), T(Z)) at x and its gradient with respect to x.
    /// </summary>
    internal static void Expand(IIdentityNetwork identity, IReadOnlyList<(IdentityExpansion Kept, int Iteration, Tensor X, Tensor Reference)> runs)
    {
        using var scope = torch.NewDisposeScope();
        using var enabled = torch.enable_grad();
        var x = torch.cat([.. runs.Select(r => r.X.detach())], 0).requires_grad_(true);
        var embeddings = identity.Embed(x);
        var values = runs.Select((r, k) => 1 - identity.Similarity(embeddings.narrow(0, k, 1), r.Reference).mean()).ToList();
        var gradient = torch.autograd.grad([values.Aggregate((a, v) => a + v)], [x])[0];
        for (var k = 0; k < runs.Count; k++)
        {
            runs[k].Kept.Keep(runs[k].Iteration, x.narrow(0, k, 1).detach().clone(), gradient.narrow(0, k, 1).clone(), values[k].detach());
        }
    }
}
