using static TorchSharp.torch;

namespace Sair.Engine.Objective;

/// <summary>What the official code feeds its IResNet-50 identity net: ImageNet mean/std normalisation, the central
/// crop rows/columns 100:900 of a 1024 image, and a bicubic resize to 112×112 with align_corners = true.</summary>
public static class IdentityPreprocessing
{
    public const int InputSize = 112;

    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    /// <summary>
    /// Maps an NCHW RGB batch in [0, 1] (square) to the 112×112 network input. For a side other than 1024 the crop
    /// bounds scale with it (100/1024 and 900/1024 of the side, rounded).
    /// </summary>
    public static Tensor Official(Tensor image)
    {
        if (image.dim() != 4 || image.shape[1] != 3 || image.shape[2] != image.shape[3])
        {
            throw new ArgumentException(
                $"Identity preprocessing takes a square NCHW RGB batch; got shape ({string.Join(", ", image.shape)}).", nameof(image));
        }
        var side = image.shape[2];
        var start = (int)Math.Round(side * 100.0 / 1024);
        var end = (int)Math.Round(side * 900.0 / 1024);
        using var scope = NewDisposeScope();
        var mean = tensor(Mean, dtype: image.dtype, device: image.device).reshape(1, 3, 1, 1);
        var std = tensor(Std, dtype: image.dtype, device: image.device).reshape(1, 3, 1, 1);
        var cropped = ((image - mean) / std)[.., .., start..end, start..end];
        return nn.functional.interpolate(cropped, size: [InputSize, InputSize], mode: InterpolationMode.Bicubic, align_corners: true)
            .MoveToOuterDisposeScope();
    }
}
