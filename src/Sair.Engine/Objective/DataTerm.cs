using static TorchSharp.torch;

namespace Sair.Engine.Objective;

/// <summary>The data term L_d(Y, D(G(w))) comparing the degraded rendering with the input Y.</summary>
internal static class DataTerm
{
    /// <summary>The official code's weight of <see cref="Official"/> in the total loss.</summary>
    public const double OfficialWeight = 120;

    /// <summary>The official code's floor on each sample's mean squared error.</summary>
    public const double OfficialFloor = 1e-4;

    /// <summary>
    /// Official: Σ_n max(mean_{C,H,W}((D(x)_n − y_n)²), 1e-4), unweighted (multiply by <see cref="OfficialWeight"/>).
    /// A sample under the floor contributes a constant and no gradient.
    /// </summary>
    public static Tensor Official(Tensor prediction, Tensor target)
    {
        RequireSameShape(prediction, target);
        using var scope = NewDisposeScope();
        return (prediction - target).pow(2).mean([1, 2, 3]).clamp_min(OfficialFloor).sum().MoveToOuterDisposeScope();
    }

    /// <summary>Paper eq. 8: the squared Frobenius norm ‖Y − D(G(w))‖²_F, summed over the batch.</summary>
    public static Tensor Paper(Tensor prediction, Tensor target)
    {
        RequireSameShape(prediction, target);
        using var scope = NewDisposeScope();
        return (target - prediction).pow(2).sum().MoveToOuterDisposeScope();
    }

    private static void RequireSameShape(Tensor prediction, Tensor target)
    {
        if (prediction.dim() != 4 || !prediction.shape.SequenceEqual(target.shape))
        {
            throw new ArgumentException(
                $"The degraded rendering ({string.Join(", ", prediction.shape)}) and the input Y ({string.Join(", ", target.shape)}) " +
                "must be NCHW batches of the same shape: check the degradation scale against Y's size.", nameof(prediction));
        }
    }
}
