using static TorchSharp.torch;

namespace Sair.Engine.Objective;

/// <summary>How the generator's output (nominally [−1, 1]) is mapped to an image in [0, 1] before the losses.</summary>
public static class OutputNormalization
{
    /// <summary>Paper preset: (x + 1)/2 clamped to [0, 1].</summary>
    public static Tensor Paper(Tensor generated)
    {
        using var scope = NewDisposeScope();
        return ((generated + 1) / 2).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Official preset: clamp to [−1, 1], then min–max normalise each image with its minimum and maximum detached,
    /// so no gradient flows through them. (The official code takes min/max over the whole tensor; with its batch of
    /// one that is the same thing.)
    /// </summary>
    public static Tensor Official(Tensor generated)
    {
        if (generated.dim() != 4)
        {
            throw new ArgumentException($"Expected an NCHW batch; got shape ({string.Join(", ", generated.shape)}).", nameof(generated));
        }
        using var scope = NewDisposeScope();
        var clamped = generated.clamp(-1, 1);
        var min = clamped.detach().amin([1, 2, 3], keepdim: true);
        var max = clamped.detach().amax([1, 2, 3], keepdim: true);
        return ((clamped - min) / (max - min)).MoveToOuterDisposeScope();
    }
}
