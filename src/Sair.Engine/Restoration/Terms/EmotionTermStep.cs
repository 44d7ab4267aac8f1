using Sair.Engine.Objective;

namespace Sair.Engine.Restoration.Terms;

/// <summary>L_e: pulls w along the target emotion's direction Δw_e (paper eq. 6; the official form in <see cref="EmotionTerm"/>).</summary>
internal sealed class EmotionTermStep : LossTerm
{
    public override string Name => LossTerms.Emotion;

    public override string WeightOption => nameof(SairOptions.EmotionWeight);

    public override double Weight(SairOptions options) => options.EmotionWeight;

    public override IEnumerable<object?> Fingerprint(SairOptions options) =>
        [options.EmotionForm, options.EmotionWeight, options.Emotion, options.RenderWithEmotionShift];

    public override void RequireNetworks(TermNetworks networks, SairOptions options)
    {
        if (networks.EmotionDirections is null)
        {
            throw new ArgumentException("The emotion term is on but no emotion directions were given: pass EmotionDirections or set EmotionWeight = 0.");
        }
        if (options.Emotion is null && networks.Expressions is null)
        {
            throw new ArgumentException("No target emotion: set SairOptions.Emotion, pass an IExpressionClassifier to infer it from Y, or set EmotionWeight = 0.");
        }
    }

    public override TermValue Evaluate(ITermContext context, TermStep step)
    {
        var direction = context.EmotionDirection!;
        return TermValue.Of(context.Options.EmotionForm == TermForm.Official
            ? EmotionTerm.Official(step.W, direction)
            : EmotionTerm.Paper(step.W, direction, context.EmotionGamma));
    }
}
