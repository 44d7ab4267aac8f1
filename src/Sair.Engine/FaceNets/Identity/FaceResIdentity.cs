namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// Human's faceres (HSE FaceRec) descriptor as an identity network: any-size [0,1] RGB is resized to its 224×224
/// input; the 1024-d descriptors are compared by cosine, as Human does.
/// </summary>
public sealed class FaceResIdentity(FaceResNet net, bool ownsNet = false, FaceCrop? crop = null)
    : ChipIdentityNetwork<FaceResNet>(net, ownsNet, crop, FaceResNet.InputSize)
{
    /// <summary>Loads the pretrained faceres model through <paramref name="locator"/> and owns it; see the constructor for <paramref name="crop"/>.</summary>
    public static FaceResIdentity Load(FaceModelLocator? locator = null, FaceCrop? crop = null) => new(FaceResNet.Load(locator), ownsNet: true, crop);

    public override string Name => "human-faceres";

    public override int EmbeddingSize => FaceResNet.DescriptorSize;

    /// <summary>
    /// The same net seeing <paramref name="crop"/> of each image instead (e.g. <see cref="FaceCrop.Whole"/> of a dlib chip
    /// beside this adapter's FFHQ faces); the copy shares the weights and never disposes them.
    /// </summary>
    public FaceResIdentity WithCrop(FaceCrop crop) => new(Net, ownsNet: false, crop);
}
