using static TorchSharp.torch;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// A face-identity network as the restoration objective uses it (the L_ID term): images in, embeddings out, and how
/// two embeddings compare. Every implementation owns its preprocessing, so callers hand it whatever the generator
/// produced and gradients reach the input pixels.
/// </summary>
public interface IIdentityNetwork : IDisposable
{
    /// <summary>A short human-readable name (shown in logs and reports).</summary>
    string Name { get; }

    /// <summary>Length E of one embedding.</summary>
    int EmbeddingSize { get; }

    /// <summary>
    /// Embeds images given as (B, 3, H, W) RGB in [0, 1] at any size (e.g. the generator's output): the network applies
    /// its own preprocessing (crop, resize, normalisation) differentiably, so gradients flow back to the input pixels.
    /// Returns (B, E).
    /// </summary>
    Tensor Embed(Tensor rgb01);

    /// <summary>Similarity of two embeddings (B, E) × (B, E) → (B): cosine for ArcFace-style networks.</summary>
    Tensor Similarity(Tensor a, Tensor b);
}
