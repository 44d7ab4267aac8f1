using static TorchSharp.torch;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// An identity network T (ArcFace-style): the one abstraction the restoration engine uses, whichever network it gets.
/// </summary>
public interface IIdentityNetwork : IDisposable
{
    /// <summary>A short name for reports, e.g. "iresnet50" or "faceapi-resnet34".</summary>
    string Name { get; }

    /// <summary>Length of an embedding.</summary>
    int EmbeddingSize { get; }

    /// <summary>
    /// Embeds images given as (B,3,H,W) RGB in [0,1] at any size (e.g. the generator's output). The network applies
    /// its own preprocessing (crop, resize, normalisation) differentiably, so gradients flow back to the pixels.
    /// </summary>
    Tensor Embed(Tensor rgb01);

    /// <summary>Similarity of two batches of embeddings (B,E)×(B,E) → (B); cosine for ArcFace-style networks.</summary>
    Tensor Similarity(Tensor a, Tensor b);
}
