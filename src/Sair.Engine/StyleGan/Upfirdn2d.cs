using Sair.Engine.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.StyleGan;

/// <summary>
/// rosinality's upfirdn2d (zero-insert, pad, TRUE convolution, decimate) for the two cases StyleGAN2 uses, applied to
/// every channel separately. A 2-tuple pad (p0, p1) means p0 before (top/left) and p1 after (bottom/right) in both axes.
/// </summary>
internal static class Upfirdn2d
{
    /// <summary>rosinality's make_kernel: outer(k, k) normalised to sum 1, times <paramref name="gain"/>.</summary>
    public static Tensor MakeKernel(IReadOnlyList<int> taps, double gain)
    {
        using var k = tensor(taps.Select(t => (float)t).ToArray());
        using var outer = k.outer(k);
        using var sum = outer.sum();
        return outer.div(sum).mul_(gain);
    }

    /// <summary>up = down = 1: pad by (p0, p1) (negative crops), then convolve with the kernel.</summary>
    public static Tensor Filter(Tensor x, Tensor kernel, int pad0, int pad1)
    {
        using var flipped = kernel.flip(0, 1);
        using var weight = DepthwiseWeight(flipped, x.shape[1]);
        if (pad0 == pad1 && pad0 >= 0)
        {
            return EngineConv.Conv2d(x, weight, padding: [pad0, pad0], groups: x.shape[1]);
        }
        using var padded = F.pad(x, [pad0, pad1, pad0, pad1]);
        return EngineConv.Conv2d(padded, weight, groups: x.shape[1]);
    }

    /// <summary>
    /// up = 2, down = 1. Zero insertion followed by a true convolution is a stride-2 transposed convolution with the
    /// unflipped kernel; its full output (2H + K − 2) starts K − 1 − p0 samples before upfirdn2d's and ends K − 2 − p1 after it.
    /// </summary>
    public static Tensor Upsample2(Tensor x, Tensor kernel, int pad0, int pad1)
    {
        var k = (int)kernel.shape[0];
        var cropBefore = k - 1 - pad0;
        var cropAfter = k - 2 - pad1;
        using var weight = DepthwiseWeight(kernel, x.shape[1]);
        if (cropBefore == cropAfter && cropBefore >= 0)
        {
            return EngineConv.ConvTranspose2d(x, weight, strides: [2, 2], padding: [cropBefore, cropBefore], groups: x.shape[1]);
        }
        using var full = EngineConv.ConvTranspose2d(x, weight, strides: [2, 2], groups: x.shape[1]);
        return F.pad(full, [-cropBefore, -cropAfter, -cropBefore, -cropAfter]);
    }

    private static Tensor DepthwiseWeight(Tensor kernel, long channels) =>
        kernel.view(1, 1, kernel.shape[0], kernel.shape[1]).expand(channels, 1, -1, -1).contiguous();
}
