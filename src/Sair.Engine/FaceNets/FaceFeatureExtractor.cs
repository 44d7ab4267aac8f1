using Sair.Engine.FaceNets.Tfjs;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets;

/// <summary>
/// A densely connected block of four convolutions: the first halves the resolution ("SAME", stride 2; a plain
/// conv in the very first block, separable otherwise), and every later conv sees the ReLU of the sum of all
/// earlier outputs.
/// </summary>
internal sealed class DenseBlock4 : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? conv0_filters;
    private readonly Parameter? conv0_bias;
    private readonly SeparableConv? conv0;
    private readonly SeparableConv conv1, conv2, conv3;

    public DenseBlock4(TfjsWeightMap weights, string prefix, long inChannels, long outChannels, bool isFirstLayer) : base(prefix)
    {
        if (isFirstLayer)
        {
            conv0_filters = FaceApiLayers.Frozen(TfOps.ConvFilter(weights.Get($"{prefix}/conv0/filters", 3, 3, inChannels, outChannels)));
            conv0_bias = FaceApiLayers.Frozen(weights, $"{prefix}/conv0/bias", outChannels);
        }
        else
        {
            conv0 = new SeparableConv(weights, $"{prefix}/conv0", inChannels, outChannels, 2);
        }
        conv1 = new SeparableConv(weights, $"{prefix}/conv1", outChannels, outChannels, 1);
        conv2 = new SeparableConv(weights, $"{prefix}/conv2", outChannels, outChannels, 1);
        conv3 = new SeparableConv(weights, $"{prefix}/conv3", outChannels, outChannels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var out1 = F.relu(conv0 is null ? TfOps.Conv2d(x, conv0_filters!, conv0_bias!, 2, same: true) : conv0.forward(x));
        var out2 = conv1.forward(out1);
        var out3 = conv2.forward(F.relu(out1 + out2));
        var out4 = conv3.forward(F.relu(out1 + (out2 + out3)));
        return F.relu(out1 + (out2 + (out3 + out4))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// face-api's shared feature extractor of the expression and 68-landmark nets: four dense blocks on a 112×112
/// chip (112 → 56 → 28 → 14 → 7) and a 7×7 average pool, giving 256 features.
/// </summary>
internal sealed class FaceFeatureExtractor : nn.Module<Tensor, Tensor>
{
    public const int InputSize = 112;
    public const int Features = 256;

    private readonly DenseBlock4 dense0, dense1, dense2, dense3;

    public FaceFeatureExtractor(TfjsWeightMap weights) : base(nameof(FaceFeatureExtractor))
    {
        dense0 = new DenseBlock4(weights, "dense0", 3, 32, isFirstLayer: true);
        dense1 = new DenseBlock4(weights, "dense1", 32, 64, isFirstLayer: false);
        dense2 = new DenseBlock4(weights, "dense2", 64, 128, isFirstLayer: false);
        dense3 = new DenseBlock4(weights, "dense3", 128, Features, isFirstLayer: false);
        RegisterComponents();
    }

    /// <summary>(N, 3, 112, 112) RGB 0..255 → (N, 256).</summary>
    public override Tensor forward(Tensor rgb255)
    {
        using var scope = NewDisposeScope();
        var x = TfOps.FaceApiNormalise(rgb255, TfOps.FaceApiMeanRgb);
        x = dense3.forward(dense2.forward(dense1.forward(dense0.forward(x))));
        x = F.avg_pool2d(x, [7, 7], [2, 2]);
        return x.flatten(1).MoveToOuterDisposeScope();
    }
}

/// <summary>The fully connected head face-api puts on the feature extractor ("fc/weights", "fc/bias").</summary>
internal sealed class FaceApiHead : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weights;
    private readonly Parameter bias;

    public FaceApiHead(TfjsWeightMap map, long outputs) : base("fc")
    {
        weights = FaceApiLayers.Frozen(map, "fc/weights", FaceFeatureExtractor.Features, outputs);
        bias = FaceApiLayers.Frozen(map, "fc/bias", outputs);
        RegisterComponents();
    }

    public override Tensor forward(Tensor features)
    {
        using var product = features.matmul(weights);
        return product + bias;
    }
}
