using Sair.Engine.Objective;

namespace Sair.Engine.Restoration.Terms;

/// <summary>L_d(Y, D(G(w))): the degraded rendering against the input (paper eq. 3; the official form in <see cref="DataTerm"/>).</summary>
internal sealed class DataTermStep : LossTerm
{
    public override string Name => LossTerms.Data;

    public override string WeightOption => nameof(SairOptions.DataWeight);

    public override double Weight(SairOptions options) => options.DataWeight;

    public override IEnumerable<object?> Fingerprint(SairOptions options) => [options.DataForm, options.DataWeight, options.BlurSigma, options.JpegQuality];

    public override TermValue Evaluate(ITermContext context, TermStep step)
    {
        var predicted = context.Degradation.forward(step.X);
        return TermValue.Of(context.Options.DataForm == TermForm.Official ? DataTerm.Official(predicted, context.Y) : DataTerm.Paper(predicted, context.Y));
    }
}
