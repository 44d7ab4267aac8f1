namespace Sair.Engine.Restoration;

/// <summary>One optimisation step's progress.</summary>
/// <param name="Iteration">0-based index of the step just taken.</param>
/// <param name="Iterations">Steps in the whole run.</param>
/// <param name="Terms">Each active term's weighted value (keys from <see cref="LossTerms"/>).</param>
/// <param name="Total">The sum that was minimised.</param>
/// <param name="LearningRate">The lr of this step.</param>
/// <param name="Elapsed">Time spent on the run so far, including before a resume.</param>
/// <param name="Recoveries">
/// Non-finite steps the run has recovered from so far (see <see cref="SairRestorer.MaxRecoveries"/>); each halved the
/// learning rate for the rest of the run.
/// </param>
public sealed record IterationReport(
    int Iteration, int Iterations, IReadOnlyDictionary<string, double> Terms, double Total, double LearningRate, TimeSpan Elapsed,
    int Recoveries = 0);

/// <summary>The outcome of <see cref="SairRestorer.Restore"/>.</summary>
/// <param name="Image">The restored image (1, 3, S, S) in [0, 1] at the generator's resolution S (the caller disposes it).</param>
/// <param name="Latent">The optimised w (1, n_latent, style_dim) (the caller disposes it).</param>
/// <param name="OutputLatent">The code the image was rendered from: w, or w + γ·Δw_e (the caller disposes it).</param>
/// <param name="History">One report per iteration.</param>
/// <param name="IdentitySimilarity">Similarity of T(result) to the reference embedding; null without an identity network.</param>
/// <param name="Emotion">The target expression used, or null when the emotion term was off.</param>
public sealed record RestorationResult(
    TorchSharp.torch.Tensor Image,
    TorchSharp.torch.Tensor Latent,
    TorchSharp.torch.Tensor OutputLatent,
    IReadOnlyList<IterationReport> History,
    double? IdentitySimilarity,
    string? Emotion) : IDisposable
{
    public void Dispose()
    {
        Image.Dispose();
        Latent.Dispose();
        OutputLatent.Dispose();
    }
}
