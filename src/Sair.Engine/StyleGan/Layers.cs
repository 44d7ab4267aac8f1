using Sair.Engine.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.StyleGan;

// The building blocks of rosinality's model.py. Fields carry the PyTorch attribute names and every component is
// registered explicitly, in PyTorch's order, so that state dict keys match the official checkpoints.

/// <summary>x · rsqrt(mean(x², dim 1) + 1e-8).</summary>
internal sealed class PixelNorm() : nn.Module<Tensor, Tensor>("PixelNorm")
{
    public override Tensor forward(Tensor input)
    {
        using var square = input.square();
        using var inverse = square.mean([1], keepdim: true).add_(1e-8).rsqrt_();
        return input.mul(inverse);
    }
}

/// <summary>
/// Linear layer with the equalised learning rate: weight stored as N(0,1)/lr_mul, used times lr_mul/√in; bias times
/// lr_mul. With the activation, the bias goes inside the fused leaky ReLU: leaky_relu(x + b, 0.2)·√2.
/// </summary>
internal sealed class EqualLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly double _scale;
    private readonly double _lrMul;
    private readonly bool _activate;

    public EqualLinear(int inDim, int outDim, double biasInit = 0, double lrMul = 1, bool activate = false)
        : base("EqualLinear")
    {
        weight = new Parameter(randn(outDim, inDim).div_(lrMul));
        bias = new Parameter(full(outDim, biasInit));
        _scale = 1 / Math.Sqrt(inDim) * lrMul;
        _lrMul = lrMul;
        _activate = activate;
        register_parameter(nameof(weight), weight);
        register_parameter(nameof(bias), bias);
    }

    public override Tensor forward(Tensor input)
    {
        using var w = weight.mul(_scale);
        using var b = bias.mul(_lrMul);
        if (!_activate)
        {
            return F.linear(input, w, b);
        }
        using var shifted = F.linear(input, w).add_(b);
        return F.leaky_relu(shifted, FusedLeakyRelu.NegativeSlope).mul_(FusedLeakyRelu.Gain);
    }
}

/// <summary>PixelNorm followed by n_mlp EqualLinear layers with lr_mul = lr_mlp: children "0" … "n_mlp" as in nn.Sequential.</summary>
internal sealed class MappingNetwork : nn.Module<Tensor, Tensor>
{
    // An array, not fields: TorchSharp would register module-valued fields a second time under the field names.
    private readonly nn.Module<Tensor, Tensor>[] _sequence;

    public MappingNetwork(int styleDim, int nMlp, double lrMlp) : base("MappingNetwork")
    {
        _sequence =
        [
            new PixelNorm(),
            .. Enumerable.Range(0, nMlp).Select(_ => new EqualLinear(styleDim, styleDim, lrMul: lrMlp, activate: true)),
        ];
        for (var i = 0; i < _sequence.Length; i++)
        {
            register_module(i.ToString(System.Globalization.CultureInfo.InvariantCulture), _sequence[i]);
        }
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var layer in _sequence)
        {
            x = layer.forward(x);
        }
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>The learned 4×4 constant the synthesis starts from, broadcast over the batch.</summary>
internal sealed class ConstantInput : nn.Module
{
    private readonly Parameter input;

    public ConstantInput(int channels) : base("ConstantInput")
    {
        input = new Parameter(randn(1, channels, 4, 4));
        register_parameter(nameof(input), input);
    }

    public Parameter Value => input;

    public Tensor Forward(long batch) => input.expand(batch, -1, -1, -1);
}

/// <summary>leaky_relu(x + bias, 0.2)·√2 with a per-channel bias.</summary>
internal sealed class FusedLeakyRelu : nn.Module
{
    public const double NegativeSlope = 0.2;
    public static readonly double Gain = Math.Sqrt(2);

    private readonly Parameter bias;

    public FusedLeakyRelu(int channels) : base("FusedLeakyReLU")
    {
        bias = new Parameter(zeros(channels));
        register_parameter(nameof(bias), bias);
    }

    public Tensor Forward(Tensor x)
    {
        using var b = bias.view(1, -1, 1, 1);
        using var shifted = x.add(b);
        return F.leaky_relu(shifted, NegativeSlope).mul_(Gain);
    }
}

/// <summary>Adds weight · noise; the (1,) weight starts at zero.</summary>
internal sealed class NoiseInjection : nn.Module
{
    private readonly Parameter weight;

    public NoiseInjection() : base("NoiseInjection")
    {
        weight = new Parameter(zeros(1));
        register_parameter(nameof(weight), weight);
    }

    public Tensor Forward(Tensor x, Tensor noise)
    {
        using var scaled = noise.mul(weight);
        return x.add(scaled);
    }
}

/// <summary>upfirdn2d with up = down = 1 and the stored kernel (make_kernel · factor², so the blur after a ×2 up-conv keeps the gain).</summary>
internal sealed class Blur : nn.Module
{
    private readonly Tensor kernel;
    private readonly int _pad0;
    private readonly int _pad1;

    public Blur(IReadOnlyList<int> taps, int pad0, int pad1, int upsampleFactor) : base("Blur")
    {
        kernel = Upfirdn2d.MakeKernel(taps, upsampleFactor * upsampleFactor);
        _pad0 = pad0;
        _pad1 = pad1;
        register_buffer(nameof(kernel), kernel);
    }

    public Tensor Forward(Tensor x) => Upfirdn2d.Filter(x, kernel, _pad0, _pad1);
}

/// <summary>upfirdn2d with up = 2 for the RGB skip: kernel make_kernel · 4, pad ((p+1)/2 + 1, p/2) with p = K − 2.</summary>
internal sealed class Upsample : nn.Module
{
    private readonly Tensor kernel;
    private readonly int _pad0;
    private readonly int _pad1;

    public Upsample(IReadOnlyList<int> taps) : base("Upsample")
    {
        const int factor = 2;
        kernel = Upfirdn2d.MakeKernel(taps, factor * factor);
        var p = taps.Count - factor;
        _pad0 = (p + 1) / 2 + factor - 1;
        _pad1 = p / 2;
        register_buffer(nameof(kernel), kernel);
    }

    public Tensor Forward(Tensor x) => Upfirdn2d.Upsample2(x, kernel, _pad0, _pad1);
}

/// <summary>How a modulated convolution applies the per-sample styles; both give the same result.</summary>
public enum ModulationMode
{
    /// <summary>
    /// Scale the input channels by the style, convolve with the shared weight, scale the output channels by the
    /// demodulation coefficients (rosinality's fused=False). Cheapest on CPU, and when only the latent needs gradients
    /// no weight gradient is computed.
    /// </summary>
    ScaledActivations,

    /// <summary>Modulate (and demodulate) one weight per sample and run a grouped convolution (rosinality's fused=True).</summary>
    GroupedWeights,
}

/// <summary>
/// StyleGAN2's modulated convolution: weight (1, out, in, k, k) · 1/√(in·k²) · style, demodulated by
/// rsqrt(Σ w'² + 1e-8); the up variant is a stride-2 transposed convolution followed by the blur.
/// </summary>
internal sealed class ModulatedConv2d : nn.Module
{
    private const double DemodulationEpsilon = 1e-8;

    private readonly Parameter weight;
    private readonly Blur? blur;
    private readonly EqualLinear modulation;
    private readonly double _scale;
    private readonly int _padding;
    private readonly bool _demodulate;

    public ModulatedConv2d(int inChannels, int outChannels, int kernelSize, int styleDim, bool demodulate, bool upsample,
        IReadOnlyList<int> blurKernel) : base("ModulatedConv2d")
    {
        _scale = 1 / Math.Sqrt(inChannels * kernelSize * kernelSize);
        _padding = kernelSize / 2;
        _demodulate = demodulate;
        weight = new Parameter(randn([1, outChannels, inChannels, kernelSize, kernelSize]));
        register_parameter(nameof(weight), weight);
        if (upsample)
        {
            const int factor = 2;
            var p = blurKernel.Count - factor - (kernelSize - 1);
            blur = new Blur(blurKernel, (p + 1) / 2 + 1, p / 2 + 1, factor);
            register_module(nameof(blur), blur);
        }
        modulation = new EqualLinear(styleDim, inChannels, biasInit: 1);
        register_module(nameof(modulation), modulation);
    }

    public Tensor Forward(Tensor x, Tensor w, ModulationMode mode)
    {
        using var scope = NewDisposeScope();
        var batch = x.shape[0];
        // The equalised-lr scale rides on the (B, in) style rather than on a scaled copy of the weight.
        var style = modulation.forward(w).mul_(_scale);
        var baseWeight = weight.squeeze(0);
        // Σ over (in, kh, kw) of (w·s)² = (s²) · (Σ_k w²)ᵀ: the demodulation without building a weight per sample.
        var demod = _demodulate
            ? style.square().matmul(baseWeight.square().sum([2, 3]).t()).add_(DemodulationEpsilon).rsqrt_()
            : null;
        var y = mode == ModulationMode.GroupedWeights
            ? Grouped(x, style, baseWeight, demod, batch)
            : Scaled(x, style, baseWeight, demod, batch);
        return y.MoveToOuterDisposeScope();
    }

    private Tensor Scaled(Tensor x, Tensor style, Tensor baseWeight, Tensor? demod, long batch)
    {
        var modulated = x.mul(style.view(batch, -1, 1, 1));
        var y = blur is null
            ? EngineConv.Conv2d(modulated, baseWeight, padding: [_padding, _padding])
            : blur.Forward(EngineConv.ConvTranspose2d(modulated, baseWeight.transpose(0, 1), strides: [2, 2]));
        return demod is null ? y : y.mul_(demod.view(batch, -1, 1, 1));
    }

    private Tensor Grouped(Tensor x, Tensor style, Tensor baseWeight, Tensor? demod, long batch)
    {
        var (outC, inC, k) = (baseWeight.shape[0], baseWeight.shape[1], baseWeight.shape[2]);
        var perSample = baseWeight.unsqueeze(0).mul(style.view(batch, 1, inC, 1, 1));
        if (demod is not null)
        {
            perSample = perSample.mul_(demod.view(batch, outC, 1, 1, 1));
        }
        var grouped = x.reshape(1, batch * inC, x.shape[2], x.shape[3]);
        if (blur is null)
        {
            var y = EngineConv.Conv2d(grouped, perSample.view(batch * outC, inC, k, k), padding: [_padding, _padding], groups: batch);
            return y.view(batch, outC, y.shape[2], y.shape[3]);
        }
        // conv_transpose2d wants (in, out/groups, k, k) per group: (B, out, in) → (B, in, out).
        var transposed = perSample.transpose(1, 2).reshape(batch * inC, outC, k, k);
        var up = EngineConv.ConvTranspose2d(grouped, transposed, strides: [2, 2], groups: batch);
        return blur.Forward(up.view(batch, outC, up.shape[2], up.shape[3]));
    }
}

/// <summary>Modulated 3×3 convolution, noise injection, then the fused leaky ReLU (rosinality's StyledConv).</summary>
internal sealed class StyledConv : nn.Module
{
    private readonly ModulatedConv2d conv;
    private readonly NoiseInjection noise;
    private readonly FusedLeakyRelu activate;

    public StyledConv(int inChannels, int outChannels, int styleDim, bool upsample, IReadOnlyList<int> blurKernel)
        : base("StyledConv")
    {
        conv = new ModulatedConv2d(inChannels, outChannels, 3, styleDim, demodulate: true, upsample, blurKernel);
        noise = new NoiseInjection();
        activate = new FusedLeakyRelu(outChannels);
        register_module(nameof(conv), conv);
        register_module(nameof(noise), noise);
        register_module(nameof(activate), activate);
    }

    public Tensor Forward(Tensor x, Tensor w, Tensor noiseImage, ModulationMode mode)
    {
        using var convolved = conv.Forward(x, w, mode);
        using var noisy = noise.Forward(convolved, noiseImage);
        return activate.Forward(noisy);
    }
}

/// <summary>1×1 modulated convolution to RGB without demodulation, plus bias, plus the upsampled previous skip.</summary>
internal sealed class ToRgb : nn.Module
{
    private readonly Parameter bias;
    private readonly Upsample? upsample;
    private readonly ModulatedConv2d conv;

    public ToRgb(int inChannels, int styleDim, bool upsample, IReadOnlyList<int> blurKernel) : base("ToRGB")
    {
        bias = new Parameter(zeros(1, 3, 1, 1));
        register_parameter(nameof(bias), bias);
        if (upsample)
        {
            this.upsample = new Upsample(blurKernel);
            register_module(nameof(upsample), this.upsample);
        }
        conv = new ModulatedConv2d(inChannels, 3, 1, styleDim, demodulate: false, upsample: false, blurKernel);
        register_module(nameof(conv), conv);
    }

    public Tensor Forward(Tensor x, Tensor w, Tensor? skip, ModulationMode mode)
    {
        using var rgb = conv.Forward(x, w, mode);
        var withBias = rgb.add(bias);
        if (skip is null || upsample is null)
        {
            return withBias;
        }
        using var upsampled = upsample.Forward(skip);
        return withBias.add_(upsampled);
    }
}

/// <summary>The fixed noise images noise_0 … noise_{n−1}, buffers of side 2^((i+5)/2).</summary>
internal sealed class NoiseBuffers : nn.Module
{
    public NoiseBuffers(int numLayers) : base("Noises")
    {
        for (var i = 0; i < numLayers; i++)
        {
            var side = 1L << ((i + 5) / 2);
            register_buffer(Name(i), randn(1, 1, side, side));
        }
    }

    /// <summary>The buffer of layer <paramref name="index"/> (looked up each time so that .to(device) is followed).</summary>
    public Tensor this[int index] => get_buffer(Name(index)) ?? throw new ArgumentOutOfRangeException(nameof(index));

    private static string Name(int index) => "noise_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A ModuleList that also keeps the typed children.</summary>
internal sealed class TypedModuleList<T> : nn.Module where T : nn.Module
{
    private readonly List<T> _items = [];

    public TypedModuleList() : base("ModuleList")
    {
    }

    public T this[int index] => _items[index];

    public int Count => _items.Count;

    public void Add(T item)
    {
        register_module(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), item);
        _items.Add(item);
    }
}
