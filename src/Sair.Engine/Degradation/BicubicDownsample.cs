using Sair.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Engine.Degradation;

/// <summary>
/// The bicubic ↓s operator of PULSE as SAIR's official code uses it (spec §4): a separable Keys kernel (a = −0.5)
/// with 4·s taps, normalised to sum 1, applied per channel vertically with stride (s, 1), then horizontally with
/// stride (1, s), after reflect padding of 3·s pixels split floor/ceil (top/left get the floor).
/// </summary>
/// <remarks>Input NCHW of any batch and channel count, sides divisible by s. Differentiable; the taps are constant
/// buffers, so move the module with <c>.to(device)</c>.</remarks>
internal sealed class BicubicDownsample : nn.Module<Tensor, Tensor>
{
    private const double KeysA = -0.5;

    // Fields named like the official module's attributes: the vertical and horizontal filter.
    private readonly Tensor k1;
    private readonly Tensor k2;

    public BicubicDownsample(int factor) : base(nameof(BicubicDownsample))
    {
        if (factor < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The downsampling factor must be 1 or more.");
        }
        Factor = factor;
        var taps = ComputeTaps(factor);
        Taps = taps;
        k1 = tensor(taps).reshape(1, 1, taps.Length, 1);
        k2 = tensor(taps).reshape(1, 1, 1, taps.Length);
        RegisterComponents();
    }

    /// <summary>The downsampling factor s.</summary>
    public int Factor { get; }

    /// <summary>The 4·s normalised taps, as float32 numbers.</summary>
    public IReadOnlyList<float> Taps { get; }

    /// <summary>The taps of the factor-s kernel: Keys(a = −0.5) sampled at (i − floor(2s) + 0.5)/s, divided by their sum.</summary>
    public static float[] ComputeTaps(int factor)
    {
        var size = 4 * factor;
        var raw = new double[size];
        for (var i = 0; i < size; i++)
        {
            raw[i] = Keys((i - Math.Floor(size / 2.0) + 0.5) / factor);
        }
        var sum = raw.Sum();
        return raw.Select(v => (float)(v / sum)).ToArray();
    }

    public override Tensor forward(Tensor input)
    {
        ImageChecks.RequireNchw(input, nameof(BicubicDownsample));
        var (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3]);
        var s = Factor;
        if (h % s != 0 || w % s != 0 || h / s < 2 || w / s < 2)
        {
            throw new ArgumentException(
                $"BicubicDownsample({s}) needs height and width divisible by {s} and at least {2 * s} pixels; got {h}×{w}. " +
                "Resize or crop the image to a multiple of the factor first.", nameof(input));
        }

        var pad = 3 * s;
        var before = pad / 2;
        var after = pad - before;
        using var scope = NewDisposeScope();
        var planes = input.reshape(n * c, 1, h, w);
        var vertical = EngineConv.Conv2d(
            nn.functional.pad(planes, [0, 0, before, after], PaddingModes.Reflect),
            k1.to(input.dtype), strides: [s, 1]);
        var horizontal = EngineConv.Conv2d(
            nn.functional.pad(vertical, [before, after, 0, 0], PaddingModes.Reflect),
            k2.to(input.dtype), strides: [1, s]);
        return horizontal.reshape(n, c, h / s, w / s).MoveToOuterDisposeScope();
    }

    private static double Keys(double x)
    {
        var ax = Math.Abs(x);
        if (ax <= 1)
        {
            return (KeysA + 2) * ax * ax * ax - (KeysA + 3) * ax * ax + 1;
        }
        return ax < 2 ? KeysA * ax * ax * ax - 5 * KeysA * ax * ax + 8 * KeysA * ax - 4 * KeysA : 0;
    }
}
