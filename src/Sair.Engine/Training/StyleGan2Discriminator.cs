using System.Globalization;
using Sair.Engine.IO;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sair.Engine.Training;

/// <summary>
/// rosinality's StyleGAN2 discriminator (residual architecture of Karras et al. 2020, Fig. 7c): a 1×1 fromRGB
/// ConvLayer, one ResBlock per halving down to 4×4, the minibatch standard deviation (group 4, one feature), a 3×3
/// ConvLayer and two EqualLinear layers. Every layer uses the equalised learning rate; downsampling blurs with the
/// [1,3,3,1] kernel before a stride-2 convolution. State dict keys match rosinality's <c>Discriminator</c>.
/// </summary>
public sealed class StyleGan2Discriminator : nn.Module<Tensor, Tensor>
{
    /// <summary>Samples per minibatch-stddev group (rosinality's stddev_group).</summary>
    public const int StddevGroup = 4;

    private readonly nn.Module<Tensor, Tensor>[] _convs;
    private readonly ConvLayer final_conv;
    private readonly EqualLinear[] _finalLinear;

    /// <summary>Builds a randomly initialised discriminator for images of <c>config.Size</c> with <c>config</c>'s channel table.</summary>
    public StyleGan2Discriminator(StyleGan2Config config) : base("Discriminator")
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var blur = config.BlurKernel;
        var inChannels = config.ChannelsAt(config.Size);
        var convs = new List<nn.Module<Tensor, Tensor>> { new ConvLayer(3, inChannels, 1, downsample: false, blur) };
        for (var logRes = config.LogSize; logRes > 2; logRes--)
        {
            var outChannels = config.ChannelsAt(1 << (logRes - 1));
            convs.Add(new ResBlock(inChannels, outChannels, blur));
            inChannels = outChannels;
        }
        _convs = [.. convs];
        var c4 = config.ChannelsAt(4);
        final_conv = new ConvLayer(inChannels + 1, c4, 3, downsample: false, blur);
        _finalLinear = [new EqualLinear(c4 * 4 * 4, c4, activate: true), new EqualLinear(c4, 1)];

        register_module("convs", Sequential(_convs));
        register_module(nameof(final_conv), final_conv);
        register_module("final_linear", Sequential(_finalLinear));
        foreach (var (_, tensor) in StateDictLoader.Entries(this))
        {
            tensor.DetachFromDisposeScope();
        }
    }

    /// <summary>The shape it was built for (size and channel table; the style fields are unused).</summary>
    public StyleGan2Config Config { get; }

    /// <summary>
    /// Images (B, 3, size, size) in about [−1, 1] → logits (B, 1). B must be below 4 or a multiple of 4, because the
    /// minibatch stddev splits the batch into groups of 4.
    /// </summary>
    public override Tensor forward(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var batch = images.shape[0];
        var group = (int)Math.Min(batch, StddevGroup);
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != Config.Size || images.shape[3] != Config.Size)
        {
            throw new ArgumentException(
                $"the discriminator expects (batch, 3, {Config.Size}, {Config.Size}); got ({string.Join(", ", images.shape)}).", nameof(images));
        }
        if (batch % group != 0)
        {
            throw new ArgumentException($"the batch ({batch}) must be a multiple of {StddevGroup} (minibatch stddev groups).", nameof(images));
        }
        using var scope = NewDisposeScope();
        var x = images;
        foreach (var layer in _convs)
        {
            x = layer.forward(x);
        }
        var (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3]);
        // Std over the group of each feature, averaged over channels and pixels: one extra feature map per sample.
        var grouped = x.view(group, -1, 1, channels, height, width);
        var stddev = grouped.var(0, unbiased: false).add_(1e-8).sqrt_().mean([2, 3, 4], keepdim: true).squeeze(2);
        var withStddev = cat([x, stddev.repeat(group, 1, height, width)], 1);
        var y = final_conv.forward(withStddev).view(batch, -1);
        foreach (var linear in _finalLinear)
        {
            y = linear.forward(y);
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>PyTorch's state_dict order (own parameters, own buffers, then children).</summary>
    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null)
        => StateDictLoader.StateDict(this, destination, prefix);

    private static SequentialList Sequential(IEnumerable<nn.Module<Tensor, Tensor>> layers) => new(layers);
}

/// <summary>An nn.Sequential stand-in that only names the children "0", "1", … (the owner runs them).</summary>
internal sealed class SequentialList : nn.Module
{
    public SequentialList(IEnumerable<nn.Module> layers) : base("Sequential")
    {
        var i = 0;
        foreach (var layer in layers)
        {
            register_module((i++).ToString(CultureInfo.InvariantCulture), layer);
        }
    }
}

/// <summary>Convolution with the equalised learning rate: weight N(0,1) used times 1/√(in·k²).</summary>
internal sealed class EqualConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly double _scale;
    private readonly long _stride;
    private readonly long _padding;

    public EqualConv2d(int inChannels, int outChannels, int kernelSize, long stride, long padding, bool bias) : base("EqualConv2d")
    {
        weight = new Parameter(randn(outChannels, inChannels, kernelSize, kernelSize));
        register_parameter(nameof(weight), weight);
        if (bias)
        {
            this.bias = new Parameter(zeros(outChannels));
            register_parameter(nameof(bias), this.bias);
        }
        _scale = 1 / Math.Sqrt(inChannels * kernelSize * kernelSize);
        _stride = stride;
        _padding = padding;
    }

    public override Tensor forward(Tensor input)
    {
        using var w = weight.mul(_scale);
        return EngineConv.Conv2d(input, w, bias, strides: [_stride, _stride], padding: [_padding, _padding]);
    }
}

/// <summary>
/// rosinality's ConvLayer: [Blur (when downsampling)], EqualConv2d, [FusedLeakyReLU]; children numbered as in its
/// nn.Sequential. Downsampling pads the blur by ((p+1)/2, p/2) with p = K − 2 + k − 1, then convolves with stride 2.
/// </summary>
internal sealed class ConvLayer : nn.Module<Tensor, Tensor>
{
    // An array, not fields: TorchSharp would register module-valued fields a second time under the field names.
    private readonly nn.Module[] _layers;

    public ConvLayer(int inChannels, int outChannels, int kernelSize, bool downsample, IReadOnlyList<int> blurKernel,
        bool bias = true, bool activate = true) : base("ConvLayer")
    {
        var layers = new List<nn.Module>();
        if (downsample)
        {
            var p = blurKernel.Count - 2 + (kernelSize - 1);
            layers.Add(new Blur(blurKernel, (p + 1) / 2, p / 2, upsampleFactor: 1));
        }
        layers.Add(new EqualConv2d(inChannels, outChannels, kernelSize, downsample ? 2 : 1, downsample ? 0 : kernelSize / 2,
            bias && !activate));
        if (activate)
        {
            // The bias lives in the activation, as in rosinality (FusedLeakyReLU(out_channel, bias=bias)).
            layers.Add(new FusedLeakyRelu(outChannels));
        }
        _layers = [.. layers];
        for (var i = 0; i < _layers.Length; i++)
        {
            register_module(i.ToString(CultureInfo.InvariantCulture), _layers[i]);
        }
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var layer in _layers)
        {
            x = layer switch
            {
                Blur blur => blur.Forward(x),
                EqualConv2d conv => conv.forward(x),
                FusedLeakyRelu activate => activate.Forward(x),
                _ => throw new InvalidOperationException($"unexpected layer {layer.GetType().Name}"),
            };
        }
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>Two 3×3 ConvLayers (the second downsampling) plus a 1×1 downsampling skip, summed and scaled by 1/√2.</summary>
internal sealed class ResBlock : nn.Module<Tensor, Tensor>
{
    private static readonly double InvSqrt2 = 1 / Math.Sqrt(2);

    private readonly ConvLayer conv1;
    private readonly ConvLayer conv2;
    private readonly ConvLayer skip;

    public ResBlock(int inChannels, int outChannels, IReadOnlyList<int> blurKernel) : base("ResBlock")
    {
        conv1 = new ConvLayer(inChannels, inChannels, 3, downsample: false, blurKernel);
        conv2 = new ConvLayer(inChannels, outChannels, 3, downsample: true, blurKernel);
        skip = new ConvLayer(inChannels, outChannels, 1, downsample: true, blurKernel, bias: false, activate: false);
        register_module(nameof(conv1), conv1);
        register_module(nameof(conv2), conv2);
        register_module(nameof(skip), skip);
    }

    public override Tensor forward(Tensor input)
    {
        using var a = conv1.forward(input);
        using var b = conv2.forward(a);
        using var s = skip.forward(input);
        return b.add(s).mul_(InvSqrt2);
    }
}
