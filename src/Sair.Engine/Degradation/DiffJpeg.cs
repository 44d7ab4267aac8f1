using Sair.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Engine.Degradation;

/// <summary>
/// Differentiable JPEG at quality q as SAIR's official code builds it (DiffJPEG, spec §4): ×255, RGB→YCbCr,
/// 2×2 average-pooled chroma, 8×8 orthonormal DCT of (block − 128), division by the standard tables × factor,
/// rounding replaced by round(x) + (x − round(x))³, then the inverse chain with chroma repeated 2×2, clamp to
/// [0, 255] and /255.
/// </summary>
/// <remarks>
/// Input NCHW RGB in [0, 1], any batch. Sides that are not multiples of 16 are padded by repeating the last row and
/// column (what JPEG encoders do with partial MCUs) and the output is cropped back. The official code divides by the
/// tables transposed (its utils.py applies .T); that is the default so results match it, and
/// <c>transposedTables: false</c> uses the tables as the JPEG standard lays them out (rows = vertical frequency).
/// </remarks>
internal sealed class DiffJpeg : nn.Module<Tensor, Tensor>
{
    private const int Block = 8;
    private const int Mcu = 16;

    // Standard JPEG tables (ITU T.81 Annex K), row = vertical frequency.
    private static readonly float[,] LuminanceTable =
    {
        { 16, 11, 10, 16, 24, 40, 51, 61 },
        { 12, 12, 14, 19, 26, 58, 60, 55 },
        { 14, 13, 16, 24, 40, 57, 69, 56 },
        { 14, 17, 22, 29, 51, 87, 80, 62 },
        { 18, 22, 37, 56, 68, 109, 103, 77 },
        { 24, 35, 55, 64, 81, 104, 113, 92 },
        { 49, 64, 78, 87, 103, 121, 120, 101 },
        { 72, 92, 95, 98, 112, 100, 103, 99 },
    };

    private static readonly float[,] ChrominanceTable =
    {
        { 17, 18, 24, 47, 99, 99, 99, 99 },
        { 18, 21, 26, 66, 99, 99, 99, 99 },
        { 24, 26, 56, 99, 99, 99, 99, 99 },
        { 47, 66, 99, 99, 99, 99, 99, 99 },
        { 99, 99, 99, 99, 99, 99, 99, 99 },
        { 99, 99, 99, 99, 99, 99, 99, 99 },
        { 99, 99, 99, 99, 99, 99, 99, 99 },
        { 99, 99, 99, 99, 99, 99, 99, 99 },
    };

    private readonly Tensor rgb_to_ycbcr;
    private readonly Tensor ycbcr_to_rgb;
    private readonly Tensor dct_basis;
    private readonly Tensor y_step;
    private readonly Tensor c_step;

    /// <param name="quality">JPEG quality in [1, 99]; q = 100 would make the official factor 0.</param>
    /// <param name="transposedTables">Divide by the transposed tables, as the official code does.</param>
    public DiffJpeg(double quality, bool transposedTables = true) : base(nameof(DiffJpeg))
    {
        Quality = quality;
        Factor = QualityToFactor(quality);
        rgb_to_ycbcr = tensor(new float[]
        {
            0.299f, 0.587f, 0.114f,
            -0.168736f, -0.331264f, 0.5f,
            0.5f, -0.418688f, -0.081312f,
        }).reshape(3, 3, 1, 1);
        ycbcr_to_rgb = tensor(new float[]
        {
            1f, 0f, 1.402f,
            1f, -0.344136f, -0.714136f,
            1f, 1.772f, 0f,
        }).reshape(3, 3, 1, 1);
        dct_basis = tensor(DctMatrix()).reshape(Block, Block);
        y_step = QuantizationSteps(LuminanceTable, Factor, transposedTables);
        c_step = QuantizationSteps(ChrominanceTable, Factor, transposedTables);
        RegisterComponents();
    }

    public double Quality { get; }

    /// <summary>The multiplier of the quantisation tables at this quality.</summary>
    public double Factor { get; }

    /// <summary>
    /// The official quality→factor rule: q &lt; 50 gives 50/q, otherwise (200 − 2q)/100; no libjpeg-style rounding
    /// or clamping of the scaled tables.
    /// </summary>
    public static double QualityToFactor(double quality)
    {
        if (!(quality >= 1 && quality < 100))
        {
            throw new ArgumentOutOfRangeException(nameof(quality), quality,
                "JPEG quality must be in [1, 100): at 100 the official factor is 0 and the tables divide by zero. Leave the JPEG stage out instead.");
        }
        return quality < 50 ? 5000.0 / quality / 100.0 : (200.0 - 2.0 * quality) / 100.0;
    }

    public override Tensor forward(Tensor input)
    {
        ImageChecks.RequireNchw(input, nameof(DiffJpeg), channels: 3);
        var (h, w) = (input.shape[2], input.shape[3]);
        var (padH, padW) = ((Mcu - h % Mcu) % Mcu, (Mcu - w % Mcu) % Mcu);
        using var scope = NewDisposeScope();
        var x = padH + padW > 0 ? nn.functional.pad(input, [0, padW, 0, padH], PaddingModes.Replicate) : input;

        var ycbcr = EngineConv.Conv2d(x * 255, rgb_to_ycbcr.to(x.dtype)) + tensor(new float[] { 0, 128, 128 }, dtype: x.dtype, device: x.device).reshape(1, 3, 1, 1);
        var luma = ycbcr[.., 0..1];
        var chroma = nn.functional.avg_pool2d(ycbcr[.., 1..3], kernel_size: 2, stride: 2);

        var lumaOut = RoundTrip(luma, y_step.to(x.dtype));
        var chromaOut = RoundTrip(chroma, c_step.to(x.dtype)).repeat_interleave(2, dim: 2).repeat_interleave(2, dim: 3);

        var shift = tensor(new float[] { 0, -128, -128 }, dtype: x.dtype, device: x.device).reshape(1, 3, 1, 1);
        var rgb = EngineConv.Conv2d(cat([lumaOut, chromaOut], dim: 1) + shift, ycbcr_to_rgb.to(x.dtype));
        var output = rgb.clamp(0, 255) / 255;
        if (padH + padW > 0)
        {
            output = output[.., .., ..(int)h, ..(int)w];
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Blocks → DCT → quantise with the cubic rounding → dequantise → inverse DCT → image, per plane.</summary>
    private Tensor RoundTrip(Tensor planes, Tensor step)
    {
        var (n, c, h, w) = (planes.shape[0], planes.shape[1], planes.shape[2], planes.shape[3]);
        var blocks = planes.reshape(n, c, h / Block, Block, w / Block, Block).permute(0, 1, 2, 4, 3, 5);
        var basis = dct_basis.to(planes.dtype);
        var coefficients = matmul(matmul(basis, blocks - 128), basis.t());
        var q = coefficients / step;
        var rounded = q.round();
        var quantised = rounded + (q - rounded).pow(3);
        var restored = matmul(matmul(basis.t(), quantised * step), basis) + 128;
        return restored.permute(0, 1, 2, 4, 3, 5).reshape(n, c, h, w);
    }

    /// <summary>The orthonormal 8-point DCT-II matrix C[u, x] = α(u)/2 · cos((2x + 1)uπ/16), α(0) = 1/√2.</summary>
    private static float[] DctMatrix()
    {
        var m = new float[Block * Block];
        for (var u = 0; u < Block; u++)
        {
            var alpha = u == 0 ? 1 / Math.Sqrt(2) : 1.0;
            for (var x = 0; x < Block; x++)
            {
                m[u * Block + x] = (float)(alpha / 2 * Math.Cos((2 * x + 1) * u * Math.PI / 16));
            }
        }
        return m;
    }

    private static Tensor QuantizationSteps(float[,] table, double factor, bool transposed)
    {
        var steps = new float[Block * Block];
        for (var u = 0; u < Block; u++)
        {
            for (var v = 0; v < Block; v++)
            {
                // Table × factor in float32, as the official code multiplies its float32 table by a Python float.
                steps[u * Block + v] = (transposed ? table[v, u] : table[u, v]) * (float)factor;
            }
        }
        return tensor(steps).reshape(Block, Block);
    }
}
