using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// An ArcFace-style backbone behind <see cref="IIdentityNetwork"/>: its preprocessing, then the frozen network
/// (eval mode, weights without gradients; the input keeps its gradient path). Embeddings compare by cosine.
/// </summary>
public sealed class BackboneIdentityNetwork : IIdentityNetwork
{
    /// <summary>PyTorch's cosine_similarity eps: guards only the degenerate all-zero embedding.</summary>
    private const double CosineEps = 1e-8;

    /// <summary>Wraps <paramref name="backbone"/>, which becomes this object's to dispose; it is frozen here.</summary>
    public BackboneIdentityNetwork(string name, nn.Module<Tensor, Tensor> backbone, int embeddingSize, IdentityPreprocessing preprocessing)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddingSize, 1);
        Name = name;
        Backbone = backbone;
        EmbeddingSize = embeddingSize;
        Preprocessing = preprocessing;
        foreach (var parameter in backbone.parameters())
        {
            parameter.requires_grad = false;
        }
        backbone.eval();
    }

    public string Name { get; }

    public int EmbeddingSize { get; }

    /// <summary>The network proper: preprocessed (B, 3, 112, 112) → (B, E).</summary>
    public nn.Module<Tensor, Tensor> Backbone { get; }

    /// <summary>What <see cref="Embed"/> does to the images before the backbone.</summary>
    public IdentityPreprocessing Preprocessing { get; }

    /// <inheritdoc/>
    public Tensor Embed(Tensor rgb01)
    {
        using var scope = NewDisposeScope();
        return Backbone.forward(Preprocessing.Apply(rgb01)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor Similarity(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.dim() != 2 || !a.shape.SequenceEqual(b.shape) || a.shape[1] != EmbeddingSize)
        {
            throw new ArgumentException(
                $"{Name} compares two (batch, {EmbeddingSize}) embeddings; got ({string.Join(", ", a.shape)}) and ({string.Join(", ", b.shape)}).");
        }
        return F.cosine_similarity(a, b, 1, CosineEps);
    }

    /// <summary>Moves the network to <paramref name="device"/>; inputs to <see cref="Embed"/> must live there too.</summary>
    public BackboneIdentityNetwork To(Device device)
    {
        Backbone.to(device);
        return this;
    }

    public void Dispose() => Backbone.Dispose();
}
