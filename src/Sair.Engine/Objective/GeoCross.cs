using static TorchSharp.torch;

namespace Sair.Engine.Objective;

/// <summary>
/// PULSE's GEOCROSS regulariser on W+ rows, as the official code computes it: for every ordered pair (a, b) of
/// latent rows, including a = b, the geodesic angle 2·atan2(‖w_a − w_b‖, ‖w_a + w_b‖) (norms with +1e-9 under the
/// root); the loss is mean over pairs of angle²·D/8 per sample (D = latent width, 512 in the official code), summed
/// over the batch.
/// </summary>
internal static class GeoCross
{
    /// <summary>The official code's weight of this term.</summary>
    public const double OfficialWeight = 0.05;

    private const double NormEpsilon = 1e-9;

    /// <param name="latent">W+ codes (N, n_latent, D).</param>
    public static Tensor Compute(Tensor latent)
    {
        if (latent.dim() != 3)
        {
            throw new ArgumentException(
                $"GEOCROSS takes W+ codes of shape (N, n_latent, D); got ({string.Join(", ", latent.shape)}).", nameof(latent));
        }
        var (n, rows, width) = (latent.shape[0], latent.shape[1], latent.shape[2]);
        using var scope = NewDisposeScope();
        var x = latent.reshape(n, 1, rows, width);
        var y = latent.reshape(n, rows, 1, width);
        var a = ((x - y).pow(2).sum(-1) + NormEpsilon).sqrt();
        var b = ((x + y).pow(2).sum(-1) + NormEpsilon).sqrt();
        var angle = 2 * atan2(a, b);
        return ((angle.pow(2) * width).mean([1, 2]) / 8).sum().MoveToOuterDisposeScope();
    }
}
