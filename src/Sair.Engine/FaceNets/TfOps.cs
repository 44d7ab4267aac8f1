using Sair.Engine.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets;

/// <summary>TensorFlow convolution semantics on NCHW TorchSharp tensors.</summary>
internal static class TfOps
{
    /// <summary>A TF conv filter [kh, kw, in, out] as a torch weight [out, in, kh, kw].</summary>
    public static Tensor ConvFilter(Tensor hwio) => hwio.permute(3, 2, 0, 1).contiguous();

    /// <summary>A TF depthwise filter [kh, kw, in, multiplier] as a grouped torch weight [in·multiplier, 1, kh, kw] (TF's channel order).</summary>
    public static Tensor DepthwiseFilter(Tensor hwim)
    {
        var (kh, kw, cin, mult) = (hwim.shape[0], hwim.shape[1], hwim.shape[2], hwim.shape[3]);
        return hwim.permute(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw).contiguous();
    }

    /// <summary>A per-channel vector [C] shaped [C, 1, 1] so it broadcasts over an NCHW map as it does over NHWC in TF.</summary>
    public static Tensor ChannelVector(Tensor c) => c.reshape(c.shape[0], 1, 1).clone();

    /// <summary>
    /// TF "SAME" padding (left, right, top, bottom) for an NCHW input: output side ⌈n/s⌉, the total padding
    /// split with the odd pixel at the bottom/right.
    /// </summary>
    public static long[] SamePadding(Tensor x, long kernelH, long kernelW, long strideH, long strideW, long dilationH = 1, long dilationW = 1)
    {
        var h = Total(x.shape[2], kernelH, strideH, dilationH);
        var w = Total(x.shape[3], kernelW, strideW, dilationW);
        return [w / 2, w - w / 2, h / 2, h - h / 2];

        static long Total(long n, long k, long s, long d)
        {
            var effective = (k - 1) * d + 1;
            var outSide = (n + s - 1) / s;
            return Math.Max(0, (outSide - 1) * s + effective - n);
        }
    }

    /// <summary>
    /// conv2d with TF padding: weight in torch layout, <paramref name="same"/> = "SAME" (asymmetric when needed)
    /// or "VALID". Symmetric padding is left to the convolution itself, which avoids a padded copy.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, long stride, bool same, long groups = 1, long dilation = 1)
    {
        var strides = new[] { stride, stride };
        var dilations = new[] { dilation, dilation };
        if (!same)
        {
            return EngineConv.Conv2d(x, weight, bias, strides: strides, dilation: dilations, groups: groups);
        }
        var pad = SamePadding(x, weight.shape[2], weight.shape[3], stride, stride, dilation, dilation);
        if (pad[0] == pad[1] && pad[2] == pad[3])
        {
            return EngineConv.Conv2d(x, weight, bias, strides: strides, padding: [pad[2], pad[0]], dilation: dilations, groups: groups);
        }
        using var padded = F.pad(x, pad);
        return EngineConv.Conv2d(padded, weight, bias, strides: strides, dilation: dilations, groups: groups);
    }

    /// <summary>Max pooling with TF padding ("SAME" pads with −∞ so padding never wins).</summary>
    public static Tensor MaxPool(Tensor x, long kernel, long stride, bool same)
    {
        if (!same)
        {
            return F.max_pool2d(x, [kernel, kernel], [stride, stride]);
        }
        using var padded = F.pad(x, SamePadding(x, kernel, kernel, stride, stride), value: double.NegativeInfinity);
        return F.max_pool2d(padded, [kernel, kernel], [stride, stride]);
    }

    /// <summary>face-api's input normalisation: (x − mean RGB) / 255 on an NCHW 0..255 image.</summary>
    public static Tensor FaceApiNormalise(Tensor rgb255, float[] meanRgb)
    {
        using var mean = tensor(meanRgb, [1, 3, 1, 1], dtype: rgb255.dtype, device: rgb255.device);
        using var centred = rgb255 - mean;
        return centred / 255;
    }

    /// <summary>The per-channel mean face-api's recognition, expression and landmark nets subtract.</summary>
    public static readonly float[] FaceApiMeanRgb = [122.782f, 117.001f, 104.298f];
}
