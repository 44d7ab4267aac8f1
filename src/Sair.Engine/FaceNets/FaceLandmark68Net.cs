using Sair.Engine.FaceNets.Tfjs;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets;

/// <summary>
/// face-api's <c>face_landmark_68_model</c>: a 112×112 RGB chip (NCHW, 0..255) → the 68 iBUG landmarks as
/// (N, 68, 2) (x, y) fractions of the chip's width and height. Differentiable with respect to the input pixels.
/// </summary>
public sealed class FaceLandmark68Net : nn.Module<Tensor, Tensor>
{
    public const string ModelName = "face_landmark_68_model";

    public const int InputSize = FaceFeatureExtractor.InputSize;

    public const int Points = 68;

    private readonly FaceFeatureExtractor features;
    private readonly FaceApiHead fc;

    public FaceLandmark68Net(TfjsWeightMap weights) : base(nameof(FaceLandmark68Net))
    {
        features = new FaceFeatureExtractor(weights);
        fc = new FaceApiHead(weights, 2 * Points);
        RegisterComponents();
        eval();
    }

    public static FaceLandmark68Net Load(FaceModelLocator? locator = null)
    {
        using var weights = TfjsWeights.LoadManifest((locator ?? FaceModelLocator.Default()).FaceApiManifest(ModelName));
        return new FaceLandmark68Net(weights);
    }

    /// <summary>(N, 3, 112, 112) → (N, 68, 2) relative (x, y); multiply by the chip's side for pixels.</summary>
    public override Tensor forward(Tensor rgb255)
    {
        FaceApiInput.Check(rgb255, InputSize, nameof(FaceLandmark68Net));
        using var f = features.forward(rgb255);
        using var interleaved = fc.forward(f);
        return interleaved.reshape(-1, Points, 2);
    }
}
