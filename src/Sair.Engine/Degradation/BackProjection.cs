using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Degradation;

/// <summary>
/// Iterative back-projection (Irani and Peleg, 1991): x ← clamp(x + U(Y − D(x)), 0, 1), repeated, with D the linear
/// part of the degradation (blur and the PULSE bicubic ↓s) and U a bicubic ↑s. It moves a restoration x toward
/// D(x) = Y — the low frequencies then come from the input — while what D cannot see (the detail above the input's
/// Nyquist frequency) stays the restoration's. D's JPEG stage has no inverse and is not used: a JPEG input is
/// back-projected as if it were its clean downscale.
/// </summary>
internal static class BackProjection
{
    /// <summary>
    /// <paramref name="image"/> ((N, 3, S, S) in [0, 1]) after <paramref name="steps"/> back-projection steps onto
    /// <paramref name="y"/> ((N, 3, S/s, S/s) in [0, 1]); a new tensor, without gradient.
    /// </summary>
    public static Tensor Apply(Tensor image, Tensor y, DegradationOptions degradation, int steps)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(degradation);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ImageChecks.RequireNchw(image, nameof(BackProjection));
        ImageChecks.RequireNchw(y, nameof(BackProjection));
        if (image.shape[2] != y.shape[2] * degradation.Scale || image.shape[3] != y.shape[3] * degradation.Scale)
        {
            throw new ArgumentException(
                $"The image is {image.shape[3]}×{image.shape[2]} but Y ×{degradation.Scale} is {y.shape[3] * degradation.Scale}×{y.shape[2] * degradation.Scale}.",
                nameof(y));
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var down = new DegradationOperator(degradation with { JpegQuality = null });
        var target = y.to(image.dtype, image.device);
        var x = image.detach().clone();
        for (var k = 0; k < steps; k++)
        {
            var residual = target - down.forward(x);
            var up = degradation.Scale == 1
                ? residual
                : F.interpolate(residual, size: [x.shape[2], x.shape[3]], mode: InterpolationMode.Bicubic, align_corners: false);
            x = (x + up).clamp_(0, 1);
        }
        return x.MoveToOuterDisposeScope();
    }
}
