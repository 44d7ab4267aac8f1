using static TorchSharp.torch;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// face-api's recogniser (a port of dlib's ResNet-34 face descriptor) as an identity network: any-size [0,1] RGB
/// is resized to its 150×150 input (which was trained on dlib-aligned chips, a tighter framing than FFHQ's).
/// <para>
/// face-api and dlib train the 128-d descriptor for Euclidean distance (same person below
/// <see cref="FaceRecognitionNet.SamePersonThreshold"/>); <see cref="ChipIdentityNetwork{TNet}.Similarity"/> returns the cosine instead, so
/// that it is interchangeable with the ArcFace nets, and <see cref="EuclideanDistance"/> gives the native metric.
/// The descriptors' norms vary little, so both rank pairs almost alike.
/// </para>
/// </summary>
public sealed class FaceApiIdentity(FaceRecognitionNet net, bool ownsNet = false, FaceCrop? crop = null)
    : ChipIdentityNetwork<FaceRecognitionNet>(net, ownsNet, crop, FaceRecognitionNet.InputSize)
{
    /// <summary>Loads the pretrained recogniser through <paramref name="locator"/> and owns it; see the constructor for <paramref name="crop"/>.</summary>
    public static FaceApiIdentity Load(FaceModelLocator? locator = null, FaceCrop? crop = null) => new(FaceRecognitionNet.Load(locator), ownsNet: true, crop);

    public override string Name => "faceapi-resnet34";

    public override int EmbeddingSize => FaceRecognitionNet.DescriptorSize;

    /// <summary>
    /// The same net seeing <paramref name="crop"/> of each image instead (e.g. <see cref="FaceCrop.Whole"/> of a dlib chip
    /// beside this adapter's FFHQ faces); the copy shares the weights and never disposes them.
    /// </summary>
    public FaceApiIdentity WithCrop(FaceCrop crop) => new(Net, ownsNet: false, crop);

    /// <summary>face-api's own metric: the Euclidean distance of paired descriptors (B,128)×(B,128) → (B); same person below 0.6.</summary>
    public static Tensor EuclideanDistance(Tensor a, Tensor b)
    {
        using var difference = a - b;
        return difference.square().sum(1).sqrt();
    }
}
