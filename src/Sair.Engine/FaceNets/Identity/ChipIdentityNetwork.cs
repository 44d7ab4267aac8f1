using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// An npm face-descriptor network as an identity network: any-size [0,1] RGB is cropped (<see cref="FaceCrop"/>) and
/// resized to the net's square input in 0..255, and descriptors are compared by cosine.
/// </summary>
/// <typeparam name="TNet">The descriptor network.</typeparam>
public abstract class ChipIdentityNetwork<TNet> : IIdentityNetwork
    where TNet : nn.Module<Tensor, Tensor>
{
    private readonly bool _ownsNet;
    private readonly int _inputSize;

    /// <summary>
    /// Wraps a loaded net; it is disposed with this adapter only when <paramref name="ownsNet"/> is true. The net sees
    /// <paramref name="crop"/> of each image (default the whole image; <see cref="FaceCrop.DlibChipInFfhq"/> for FFHQ-aligned faces).
    /// </summary>
    protected ChipIdentityNetwork(TNet net, bool ownsNet, FaceCrop? crop, int inputSize)
    {
        ArgumentNullException.ThrowIfNull(net);
        Net = net;
        _ownsNet = ownsNet;
        Crop = crop ?? FaceCrop.Whole;
        _inputSize = inputSize;
    }

    public abstract string Name { get; }

    public abstract int EmbeddingSize { get; }

    /// <summary>The wrapped network.</summary>
    protected TNet Net { get; }

    /// <summary>The part of each image the network sees.</summary>
    protected FaceCrop Crop { get; }

    public Tensor Embed(Tensor rgb01)
    {
        using var input = FaceChip.To255(rgb01, _inputSize, GetType().Name, Crop);
        return Net.forward(input);
    }

    /// <summary>Cosine similarity of paired descriptors (B,E)×(B,E) → (B).</summary>
    public Tensor Similarity(Tensor a, Tensor b) => F.cosine_similarity(a, b, dim: 1);

    public void Dispose()
    {
        if (_ownsNet)
        {
            Net.Dispose();
        }
        GC.SuppressFinalize(this);
    }
}
