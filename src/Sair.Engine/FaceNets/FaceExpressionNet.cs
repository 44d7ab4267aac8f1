using Sair.Engine.FaceNets.Tfjs;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets;

/// <summary>
/// face-api's <c>face_expression_model</c>: a 112×112 RGB chip (NCHW, 0..255) → probabilities of the seven
/// expressions in <see cref="Labels"/> order. Differentiable with respect to the input pixels.
/// </summary>
public sealed class FaceExpressionNet : nn.Module<Tensor, Tensor>
{
    public const string ModelName = "face_expression_model";

    public const int InputSize = FaceFeatureExtractor.InputSize;

    /// <summary>The output order of the classifier.</summary>
    public static readonly IReadOnlyList<string> Labels = ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"];

    private readonly FaceFeatureExtractor features;
    private readonly FaceApiHead fc;

    public FaceExpressionNet(TfjsWeightMap weights) : base(nameof(FaceExpressionNet))
    {
        features = new FaceFeatureExtractor(weights);
        fc = new FaceApiHead(weights, Labels.Count);
        RegisterComponents();
        eval();
    }

    public static FaceExpressionNet Load(FaceModelLocator? locator = null)
    {
        using var weights = TfjsWeights.LoadManifest((locator ?? FaceModelLocator.Default()).FaceApiManifest(ModelName));
        return new FaceExpressionNet(weights);
    }

    /// <summary>(N, 3, 112, 112) → (N, 7) logits (before the softmax).</summary>
    public Tensor Logits(Tensor rgb255)
    {
        FaceApiInput.Check(rgb255, InputSize, nameof(FaceExpressionNet));
        using var f = features.forward(rgb255);
        return fc.forward(f);
    }

    /// <summary>(N, 3, 112, 112) → (N, 7) probabilities.</summary>
    public override Tensor forward(Tensor rgb255)
    {
        using var logits = Logits(rgb255);
        return logits.softmax(1);
    }
}
