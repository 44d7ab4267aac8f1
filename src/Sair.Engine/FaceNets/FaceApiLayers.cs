using Sair.Engine.FaceNets.Tfjs;
using Sair.Engine.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets;

/// <summary>Building blocks of the face-api networks; field names follow the tfjs weight names.</summary>
internal static class FaceApiLayers
{
    /// <summary>
    /// A pretrained weight: part of the module (moves with <c>to(device)</c>) but never trained. It belongs to the
    /// module, not to whatever dispose scope the module happens to be built in (closing that scope would empty it).
    /// </summary>
    public static Parameter Frozen(Tensor t)
    {
        var weight = new Parameter(t, requires_grad: false);
        weight.DetachFromDisposeScope();
        return weight;
    }

    /// <summary>A copy of a weight-map tensor, so the map can be disposed once the module is built.</summary>
    public static Parameter Frozen(TfjsWeightMap weights, string name, params long[] shape) => Frozen(weights.Get(name, shape).clone());
}

/// <summary>
/// The recognition net's conv layer: convolution + bias, then dlib's per-channel affine layer ("scale", which
/// stands in for batch norm at inference), then optionally ReLU.
/// </summary>
internal sealed class ScaledConv : nn.Module<Tensor, Tensor>
{
    private readonly Parameter conv_filters;
    private readonly Parameter conv_bias;
    private readonly Parameter scale_weights;
    private readonly Parameter scale_biases;
    private readonly long _stride;
    private readonly bool _same;
    private readonly bool _relu;

    public ScaledConv(TfjsWeightMap weights, string prefix, long inChannels, long outChannels, long kernel, long stride, bool same, bool relu)
        : base(prefix)
    {
        conv_filters = FaceApiLayers.Frozen(TfOps.ConvFilter(weights.Get($"{prefix}/conv/filters", kernel, kernel, inChannels, outChannels)));
        conv_bias = FaceApiLayers.Frozen(weights, $"{prefix}/conv/bias", outChannels);
        scale_weights = FaceApiLayers.Frozen(TfOps.ChannelVector(weights.Get($"{prefix}/scale/weights", outChannels)));
        scale_biases = FaceApiLayers.Frozen(TfOps.ChannelVector(weights.Get($"{prefix}/scale/biases", outChannels)));
        (_stride, _same, _relu) = (stride, same, relu);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var conv = TfOps.Conv2d(x, conv_filters, conv_bias, _stride, _same);
        using var scaled = conv * scale_weights;
        var affine = scaled + scale_biases;
        if (!_relu)
        {
            return affine;
        }
        using (affine)
        {
            return F.relu(affine);
        }
    }
}

/// <summary>
/// A residual block of the recognition net. The down-sampling variant has a stride-2 "VALID" first conv; its
/// shortcut is a 2×2 average pool, zero-padded in channels when the width doubles and the residual branch is
/// zero-padded at the bottom/right when the pooled map is one pixel larger (odd input sides).
/// </summary>
internal sealed class ResidualLayer : nn.Module<Tensor, Tensor>
{
    private readonly ScaledConv conv1;
    private readonly ScaledConv conv2;
    private readonly bool _down;

    public ResidualLayer(TfjsWeightMap weights, string prefix, long inChannels, long outChannels, bool down) : base(prefix)
    {
        conv1 = new ScaledConv(weights, $"{prefix}/conv1", inChannels, outChannels, 3, down ? 2 : 1, same: !down, relu: true);
        conv2 = new ScaledConv(weights, $"{prefix}/conv2", outChannels, outChannels, 3, 1, same: true, relu: false);
        _down = down;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var hidden = conv1.forward(x);
        using var residual = conv2.forward(hidden);
        if (!_down)
        {
            using var sum = residual + x;
            return F.relu(sum);
        }
        using var pooled = F.avg_pool2d(x, [2, 2], [2, 2]);
        using var shortcut = pooled.shape[1] == residual.shape[1] ? pooled.alias() : cat([pooled, zeros_like(pooled)], 1);
        using var aligned = F.pad(residual, [0, pooled.shape[3] - residual.shape[3], 0, pooled.shape[2] - residual.shape[2]]);
        using var total = shortcut + aligned;
        return F.relu(total);
    }
}

/// <summary>Depthwise 3×3 ("SAME", optional stride) then pointwise 1×1 convolution plus bias, as tf.separableConv2d.</summary>
internal sealed class SeparableConv : nn.Module<Tensor, Tensor>
{
    private readonly Parameter depthwise_filter;
    private readonly Parameter pointwise_filter;
    private readonly Parameter bias;
    private readonly long _stride;

    public SeparableConv(TfjsWeightMap weights, string prefix, long inChannels, long outChannels, long stride) : base(prefix)
    {
        depthwise_filter = FaceApiLayers.Frozen(TfOps.DepthwiseFilter(weights.Get($"{prefix}/depthwise_filter", 3, 3, inChannels, 1)));
        pointwise_filter = FaceApiLayers.Frozen(TfOps.ConvFilter(weights.Get($"{prefix}/pointwise_filter", 1, 1, inChannels, outChannels)));
        bias = FaceApiLayers.Frozen(weights, $"{prefix}/bias", outChannels);
        _stride = stride;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var depthwise = TfOps.Conv2d(x, depthwise_filter, null, _stride, same: true, groups: x.shape[1]);
        return EngineConv.Conv2d(depthwise, pointwise_filter, bias);
    }
}
