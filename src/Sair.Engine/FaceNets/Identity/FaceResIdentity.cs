using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// Human's faceres (HSE FaceRec) descriptor as an identity network: any-size [0,1] RGB is resized to its 224×224
/// input; the 1024-d descriptors are compared by cosine, as Human does.
/// </summary>
public sealed class FaceResIdentity : IIdentityNetwork
{
    private readonly FaceResNet _net;
    private readonly bool _ownsNet;

    private readonly FaceCrop _crop;

    /// <summary>
    /// Wraps a loaded net; it is disposed with this adapter only when <paramref name="ownsNet"/> is true. The net sees
    /// <paramref name="crop"/> of each image (default the whole image; <see cref="FaceCrop.DlibChipInFfhq"/> for FFHQ-aligned faces).
    /// </summary>
    public FaceResIdentity(FaceResNet net, bool ownsNet = false, FaceCrop? crop = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        _net = net;
        _ownsNet = ownsNet;
        _crop = crop ?? FaceCrop.Whole;
    }

    /// <summary>Loads the pretrained faceres model through <paramref name="locator"/> and owns it; see the constructor for <paramref name="crop"/>.</summary>
    public static FaceResIdentity Load(FaceModelLocator? locator = null, FaceCrop? crop = null) => new(FaceResNet.Load(locator), ownsNet: true, crop);

    public string Name => "human-faceres";

    public int EmbeddingSize => FaceResNet.DescriptorSize;

    /// <summary>
    /// The same net seeing <paramref name="crop"/> of each image instead (e.g. <see cref="FaceCrop.Whole"/> of a dlib chip
    /// beside this adapter's FFHQ faces); the copy shares the weights and never disposes them.
    /// </summary>
    public FaceResIdentity WithCrop(FaceCrop crop) => new(_net, ownsNet: false, crop);

    public Tensor Embed(Tensor rgb01)
    {
        using var input = FaceChip.To255(rgb01, FaceResNet.InputSize, nameof(FaceResIdentity), _crop);
        return _net.forward(input);
    }

    /// <summary>Cosine similarity of paired descriptors (B,1024)×(B,1024) → (B).</summary>
    public Tensor Similarity(Tensor a, Tensor b) => F.cosine_similarity(a, b, dim: 1);

    public void Dispose()
    {
        if (_ownsNet)
        {
            _net.Dispose();
        }
    }
}
