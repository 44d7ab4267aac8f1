using static TorchSharp.torch;

namespace Sair.Engine.Degradation;

/// <summary>Input checks shared by the operators, with errors that say what was expected.</summary>
internal static class ImageChecks
{
    public static void RequireNchw(Tensor input, string op, long? channels = null)
    {
        if (input.dim() != 4)
        {
            throw new ArgumentException(
                $"{op} takes an NCHW image batch (4 dimensions); got shape ({string.Join(", ", input.shape)}). " +
                "Add a batch dimension with unsqueeze(0) for a single image.", nameof(input));
        }
        if (!input.is_floating_point())
        {
            throw new ArgumentException($"{op} takes a floating-point image; got {input.dtype}. Convert with .to(float32) / 255.", nameof(input));
        }
        if (channels is { } expected && input.shape[1] != expected)
        {
            throw new ArgumentException($"{op} needs {expected} channels (RGB); got {input.shape[1]}.", nameof(input));
        }
    }
}
