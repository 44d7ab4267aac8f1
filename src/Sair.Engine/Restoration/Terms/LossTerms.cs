namespace Sair.Engine.Restoration;

/// <summary>
/// The names under which <see cref="IterationReport.Terms"/> reports each loss term (weighted values); each term
/// (<see cref="Terms.LossTerm"/>, in this folder) declares which is its own.
/// </summary>
public static class LossTerms
{
    public const string Data = "data";
    public const string Identity = "identity";
    public const string LatentPrior = "latent_prior";
    public const string Emotion = "emotion";
    public const string Histogram = "histogram";
    public const string GeoCross = "geocross";
}
