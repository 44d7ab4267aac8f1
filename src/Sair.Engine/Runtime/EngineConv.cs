using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Runtime;

/// <summary>
/// The engine's 2-D convolution: libtorch's, except where the CPU kernel guard chose a configuration that routes some
/// shapes around oneDNN (<see cref="CpuKernelConfiguration.RoutesUnaligned"/>). Every convolution the engine computes
/// goes through here — generator, discriminator, degradation operators, face nets — and so does the guard's battery,
/// so the battery verifies exactly what the engine runs.
/// </summary>
/// <remarks>
/// Why: on an AMD Zen 5 oneDNN's default (AVX-512) kernels compute wrong numbers, or read memory they never wrote, for
/// convolutions over channel counts that are not a multiple of its 16-float vector block — single-channel planes (the
/// blur, bicubic and Gaussian filters), a 3 → 8 stem, 8-channel layers, 65 channels (64 + the discriminator's stddev
/// map) — and in the double backward of 1×1 convolutions, while the wide layers that carry nearly all the work compute
/// right. Routing only those shapes keeps the fast kernels for the rest instead of slowing every convolution down with
/// a lower instruction set: a 1×1 convolution runs as one matrix product; a narrow one either on oneDNN with its
/// channels zero-padded to the block (8-channel layers, 65 channels), or, where padding would multiply the work
/// (single-channel planes, 3 → 3, grouped), as an explicit im2col (<c>unfold</c>) and matrix product, which libtorch
/// computes with ATen's own kernels and BLAS. An image stem (1–4 channels into an aligned layer) stays on oneDNN.
/// </remarks>
public static class EngineConv
{
    /// <summary>oneDNN's float32 vector block on AVX-512: channel counts that are a multiple of it are "aligned".</summary>
    public const long Alignment = 16;

    private static volatile bool _routeUnaligned;

    /// <summary>Whether this process routes the shapes <see cref="IsRouted(Tensor, Tensor)"/> names around oneDNN.</summary>
    public static bool RoutesUnaligned => _routeUnaligned;

    /// <summary>Set by the kernel guard when it applies a configuration (and by tests).</summary>
    internal static void SetRouting(bool routeUnaligned) => _routeUnaligned = routeUnaligned;

    /// <summary>
    /// Whether a convolution of this input over this weight is routed in this process: CPU float32, and an output channel
    /// count off the block, an input channel count off it (other than an image's, <see cref="MaxStemChannels"/>), or a
    /// 1×1 kernel (whose double backward the Zen 5's default kernels get wrong even when aligned).
    /// </summary>
    public static bool IsRouted(Tensor input, Tensor weight) => IsRouted(input, weight, _routeUnaligned);

    internal static bool IsRouted(Tensor input, Tensor weight, bool routeUnaligned)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (!routeUnaligned || !IsRoutable(input))
        {
            return false;
        }

        long inChannels = input.shape[1], outChannels = weight.shape[0];
        return (IsUnaligned(inChannels) && inChannels > MaxStemChannels) || IsUnaligned(outChannels) || IsPointwise(weight);
    }

    /// <summary>What routing applies to at all: a 4-D float32 batch on the CPU (float64 and CUDA never reach oneDNN's CPU kernels).</summary>
    private static bool IsRoutable(Tensor input) =>
        input.device_type == DeviceType.CPU && input.dtype == ScalarType.Float32 && input.dim() == 4;

    private static bool IsUnaligned(long channels) => channels % Alignment != 0;

    /// <summary>
    /// Up to this many input channels (an RGB or grey image) and an aligned output, a convolution stays on oneDNN: it has
    /// kernels of its own for a network's first layer, which compute right on the Zen 5 (the battery's stem checks) and
    /// run face-api's 3 → 32 7×7 stem 7.5× faster than the same convolution padded to 16 channels.
    /// </summary>
    internal const long MaxStemChannels = 4;

    private static bool IsPointwise(Tensor weight) => weight.shape[2] == 1 && weight.shape[3] == 1;

    /// <summary>
    /// libtorch's <c>conv2d</c>, same arguments. Where <see cref="IsRouted(Tensor, Tensor)"/> says so: a 1×1 stride-1
    /// convolution as one matrix product (<see cref="Pointwise"/>); a wider kernel with its channels zero-padded to the
    /// block (<see cref="ZeroPadded"/>) when that costs at most <see cref="MaxPaddingFactor"/> times the arithmetic and
    /// it is not grouped; else as <see cref="Im2Col"/> (single-channel planes, 3 → 3 colour transforms, depthwise
    /// filters over a few channels, strided 1×1).
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, long[]? strides = null, long[]? padding = null,
        long[]? dilation = null, long groups = 1)
    {
        if (!IsRouted(input, weight))
        {
            return F.conv2d(input, weight, bias, strides, padding, dilation, groups);
        }

        var (stride, pad) = (Pair(strides, 1), Pair(padding, 0));
        if (IsPointwise(weight) && groups == 1 && stride == (1, 1) && pad == (0, 0))
        {
            return Pointwise(input, weight, bias);
        }

        return groups == 1 && !IsPointwise(weight) && PaddingFactor(input.shape[1], weight.shape[0]) <= MaxPaddingFactor
            ? ZeroPadded(input, weight, bias, strides, padding, dilation)
            : Im2Col(input, weight, bias, stride, pad, Pair(dilation, 1), groups);
    }

    /// <summary>A 1×1 stride-1 convolution as a matrix product over the pixels (no copy of the input).</summary>
    internal static Tensor Pointwise(Tensor input, Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3], o = weight.shape[0];
        using var scope = NewDisposeScope();
        var y = matmul(weight.reshape(o, c), input.reshape(n, c, h * w)).view(n, o, h, w);
        if (bias is not null)
        {
            y = y + bias.reshape(1, o, 1, 1);
        }

        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Up to this many times the arithmetic, a narrow convolution is cheaper on oneDNN with its channels zero-padded to
    /// the block than as im2col (measured on the face nets' 3 → 32 7×7 stem: 12× slower as im2col; docs/benchmarks.md).
    /// </summary>
    internal const double MaxPaddingFactor = 6;

    /// <summary>How many times the arithmetic of a convolution grows when both channel counts are padded to the block.</summary>
    internal static double PaddingFactor(long inChannels, long outChannels) =>
        (double)RoundUp(inChannels) / inChannels * RoundUp(outChannels) / outChannels;

    private static long RoundUp(long channels) => (channels + Alignment - 1) / Alignment * Alignment;

    /// <summary>
    /// The same convolution on oneDNN's aligned kernels: input and weight channels zero-padded to a multiple of 16 (zeros
    /// add nothing to the sums), extra outputs cut off; autograd slices the gradients back.
    /// </summary>
    internal static Tensor ZeroPadded(Tensor input, Tensor weight, Tensor? bias, long[]? strides, long[]? padding, long[]? dilation)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        long inChannels = input.shape[1], outChannels = weight.shape[0];
        long padIn = RoundUp(inChannels) - inChannels, padOut = RoundUp(outChannels) - outChannels;
        using var scope = NewDisposeScope();
        var x = padIn > 0 ? F.pad(input, [0, 0, 0, 0, 0, padIn]) : input;
        var w = padIn > 0 || padOut > 0 ? F.pad(weight, [0, 0, 0, 0, 0, padIn, 0, padOut]) : weight;
        var b = bias is not null && padOut > 0 ? F.pad(bias, [0, padOut]) : bias;
        var y = F.conv2d(x, w, b, strides, padding, dilation);
        if (padOut > 0)
        {
            y = y.narrow(1, 0, outChannels).contiguous();
        }

        return y.MoveToOuterDisposeScope();
    }

    /// <summary>The same convolution as an explicit im2col and a (grouped) matrix product; exact up to summation order.</summary>
    internal static Tensor Im2Col(Tensor input, Tensor weight, Tensor? bias, (long H, long W) stride, (long H, long W) padding,
        (long H, long W) dilation, long groups)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        long o = weight.shape[0], cg = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3];
        if (c != cg * groups || o % groups != 0)
        {
            throw new ArgumentException($"conv2d: input with {c} channels, weight ({string.Join(", ", weight.shape)}) and {groups} group(s) do not fit.");
        }

        var oh = (h + 2 * padding.H - dilation.H * (kh - 1) - 1) / stride.H + 1;
        var ow = (w + 2 * padding.W - dilation.W * (kw - 1) - 1) / stride.W + 1;
        using var scope = NewDisposeScope();
        // unfold gives (n, c·kh·kw, oh·ow), channel-major. The batch is folded into the columns: a batch is one wider
        // product per group, not a batched one, so a face's sums do not depend on how many faces share the pass.
        var length = oh * ow;
        var columns = F.unfold(input, (kh, kw), dilation, padding, stride)
            .reshape(n, groups, cg * kh * kw, length).permute(1, 2, 0, 3).reshape(groups, cg * kh * kw, n * length);
        var output = matmul(weight.reshape(groups, o / groups, cg * kh * kw), columns) // (groups, o/groups, n·oh·ow)
            .reshape(o, n, length).permute(1, 0, 2).contiguous(); // contiguous, as conv2d's own result is
        output = output.view(n, o, oh, ow);
        if (bias is not null)
        {
            output = output + bias.reshape(1, o, 1, 1);
        }

        return output.MoveToOuterDisposeScope();
    }

    /// <summary>libtorch's <c>conv_transpose2d</c> (no output padding, dilation 1), routed like <see cref="Conv2d"/>.</summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, long[]? strides = null,
        long[]? padding = null, long groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var routed = _routeUnaligned && IsRoutable(input) && (IsUnaligned(input.shape[1]) || IsUnaligned(weight.shape[1] * groups));
        return routed
            ? Col2Im(input, weight, bias, Pair(strides, 1), Pair(padding, 0), groups)
            : F.conv_transpose2d(input, weight, bias, strides, padding, groups: groups);
    }

    /// <summary>The transposed convolution as a (grouped) matrix product and a col2im (<c>fold</c>).</summary>
    internal static Tensor Col2Im(Tensor input, Tensor weight, Tensor? bias, (long H, long W) stride, (long H, long W) padding, long groups)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        long cgOut = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3];
        if (weight.shape[0] != c || c % groups != 0)
        {
            throw new ArgumentException($"conv_transpose2d: input with {c} channels, weight ({string.Join(", ", weight.shape)}) and {groups} group(s) do not fit.");
        }

        var cgIn = c / groups;
        var oh = (h - 1) * stride.H - 2 * padding.H + kh;
        var ow = (w - 1) * stride.W - 2 * padding.W + kw;
        var length = h * w;
        using var scope = NewDisposeScope();
        // Per group: columns (cgOut·kh·kw, n·h·w) = weightᵀ · input, then fold adds each column's patch into the output.
        var x = input.reshape(n, groups, cgIn, length).permute(1, 2, 0, 3).reshape(groups, cgIn, n * length);
        var wt = weight.reshape(groups, cgIn, cgOut * kh * kw).transpose(1, 2);
        var columns = matmul(wt, x).reshape(groups, cgOut * kh * kw, n, length).permute(2, 0, 1, 3)
            .reshape(n, groups * cgOut * kh * kw, length);
        var output = F.fold(columns, (oh, ow), (kh, kw), (1, 1), padding, stride);
        if (bias is not null)
        {
            output = output + bias.reshape(1, groups * cgOut, 1, 1);
        }

        return output.MoveToOuterDisposeScope();
    }

    private static (long, long) Pair(long[]? values, long fallback) => values switch
    {
        null or [] => (fallback, fallback),
        [var v] => (v, v),
        [var a, var b, ..] => (a, b),
    };
}
