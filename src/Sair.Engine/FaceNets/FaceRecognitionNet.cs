using Sair.Engine.FaceNets.Tfjs;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets;

/// <summary>
/// face-api's <c>face_recognition_model</c>: a ResNet-34-like port of dlib's face recogniser. Input an aligned
/// 150×150 RGB face chip, NCHW, values 0..255; output the 128-d descriptor (compared by Euclidean distance,
/// same person below 0.6). Differentiable with respect to the input pixels.
/// </summary>
public sealed class FaceRecognitionNet : nn.Module<Tensor, Tensor>
{
    /// <summary>The model's file name stem in @vladmandic/face-api/model.</summary>
    public const string ModelName = "face_recognition_model";

    /// <summary>Input side in pixels.</summary>
    public const int InputSize = 150;

    /// <summary>Descriptor length.</summary>
    public const int DescriptorSize = 128;

    /// <summary>face-api's same-person threshold on the Euclidean distance between descriptors.</summary>
    public const double SamePersonThreshold = 0.6;

    private readonly ScaledConv conv32_down;
    private readonly ResidualLayer conv32_1, conv32_2, conv32_3;
    private readonly ResidualLayer conv64_down, conv64_1, conv64_2, conv64_3;
    private readonly ResidualLayer conv128_down, conv128_1, conv128_2;
    private readonly ResidualLayer conv256_down, conv256_1, conv256_2, conv256_down_out;
    private readonly Parameter fc;

    /// <summary>Builds the net from decoded weights (the map may be disposed afterwards).</summary>
    public FaceRecognitionNet(TfjsWeightMap weights) : base(nameof(FaceRecognitionNet))
    {
        conv32_down = new ScaledConv(weights, "conv32_down", 3, 32, 7, 2, same: false, relu: true);
        conv32_1 = new ResidualLayer(weights, "conv32_1", 32, 32, down: false);
        conv32_2 = new ResidualLayer(weights, "conv32_2", 32, 32, down: false);
        conv32_3 = new ResidualLayer(weights, "conv32_3", 32, 32, down: false);
        conv64_down = new ResidualLayer(weights, "conv64_down", 32, 64, down: true);
        conv64_1 = new ResidualLayer(weights, "conv64_1", 64, 64, down: false);
        conv64_2 = new ResidualLayer(weights, "conv64_2", 64, 64, down: false);
        conv64_3 = new ResidualLayer(weights, "conv64_3", 64, 64, down: false);
        conv128_down = new ResidualLayer(weights, "conv128_down", 64, 128, down: true);
        conv128_1 = new ResidualLayer(weights, "conv128_1", 128, 128, down: false);
        conv128_2 = new ResidualLayer(weights, "conv128_2", 128, 128, down: false);
        conv256_down = new ResidualLayer(weights, "conv256_down", 128, 256, down: true);
        conv256_1 = new ResidualLayer(weights, "conv256_1", 256, 256, down: false);
        conv256_2 = new ResidualLayer(weights, "conv256_2", 256, 256, down: false);
        conv256_down_out = new ResidualLayer(weights, "conv256_down_out", 256, 256, down: true);
        fc = FaceApiLayers.Frozen(weights, "fc", 256, DescriptorSize);
        RegisterComponents();
        eval();
    }

    /// <summary>Loads the pretrained weights through <paramref name="locator"/> (default: <see cref="FaceModelLocator.Default"/>).</summary>
    public static FaceRecognitionNet Load(FaceModelLocator? locator = null)
    {
        using var weights = TfjsWeights.LoadManifest((locator ?? FaceModelLocator.Default()).FaceApiManifest(ModelName));
        return new FaceRecognitionNet(weights);
    }

    /// <summary>(N, 3, 150, 150) RGB 0..255 → (N, 128) descriptors.</summary>
    public override Tensor forward(Tensor rgb255)
    {
        FaceApiInput.Check(rgb255, InputSize, nameof(FaceRecognitionNet));
        using var scope = NewDisposeScope();
        var x = TfOps.FaceApiNormalise(rgb255, TfOps.FaceApiMeanRgb);
        x = conv32_down.forward(x);
        x = TfOps.MaxPool(x, 3, 2, same: false);
        foreach (var block in new[]
                 {
                     conv32_1, conv32_2, conv32_3, conv64_down, conv64_1, conv64_2, conv64_3,
                     conv128_down, conv128_1, conv128_2, conv256_down, conv256_1, conv256_2, conv256_down_out,
                 })
        {
            x = block.forward(x);
        }
        var pooled = x.mean([2, 3]);
        return pooled.matmul(fc).MoveToOuterDisposeScope();
    }
}

/// <summary>Input checks shared by the face-api nets.</summary>
internal static class FaceApiInput
{
    public static void Check(Tensor rgb255, int side, string net)
    {
        if (rgb255.dim() != 4 || rgb255.shape[1] != 3 || rgb255.shape[2] != side || rgb255.shape[3] != side)
        {
            throw new ArgumentException(
                $"{net} expects an NCHW RGB batch (N, 3, {side}, {side}) with values 0..255; got [{string.Join(", ", rgb255.shape)}]. " +
                $"Resize the face chip to {side}×{side} first.", nameof(rgb255));
        }
        if (!rgb255.is_floating_point())
        {
            throw new ArgumentException($"{net} expects floating-point pixels (float32, or float64 for exact gradient checks), got {rgb255.dtype}.", nameof(rgb255));
        }
    }
}
