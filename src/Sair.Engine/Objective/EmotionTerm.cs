using static TorchSharp.torch;

namespace Sair.Engine.Objective;

/// <summary>The expression term L_e that pulls w along an emotion direction Δw_e.</summary>
internal static class EmotionTerm
{
    /// <summary>The weight α1 of this term in both presets.</summary>
    public const double Weight = 0.1;

    /// <summary>
    /// Official: 1 − mean over all samples and latent rows of |cos(w_l, d_l)|. The absolute value makes the
    /// opposite direction as good as the intended one.
    /// </summary>
    /// <param name="latent">W+ codes (N, n_latent, D).</param>
    /// <param name="direction">The direction (1 or N, n_latent, D).</param>
    public static Tensor Official(Tensor latent, Tensor direction)
    {
        RequireLatents(latent, direction);
        using var scope = NewDisposeScope();
        return (1 - nn.functional.cosine_similarity(latent, direction.expand_as(latent), dim: 2).abs().mean()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Paper: 1 − cos(w + γΔw, Δw), the cosine taken over each sample's whole W+ code (n_latent·D numbers), averaged
    /// over the batch.
    /// </summary>
    public static Tensor Paper(Tensor latent, Tensor direction, double gamma)
    {
        RequireLatents(latent, direction);
        using var scope = NewDisposeScope();
        var d = direction.expand_as(latent).flatten(1);
        var shifted = latent.flatten(1) + gamma * d;
        return (1 - nn.functional.cosine_similarity(shifted, d, dim: 1)).mean().MoveToOuterDisposeScope();
    }

    private static void RequireLatents(Tensor latent, Tensor direction)
    {
        if (latent.dim() != 3 || direction.dim() != 3 || direction.shape[1] != latent.shape[1] || direction.shape[2] != latent.shape[2]
            || (direction.shape[0] != 1 && direction.shape[0] != latent.shape[0]))
        {
            throw new ArgumentException(
                $"The latent ({string.Join(", ", latent.shape)}) and the emotion direction ({string.Join(", ", direction.shape)}) " +
                "must be (N, n_latent, D) and (1 or N, n_latent, D); reshape an (n_latent, D) direction with unsqueeze(0).", nameof(direction));
        }
    }
}
