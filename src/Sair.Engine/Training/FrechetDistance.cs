using static TorchSharp.torch;

namespace Sair.Engine.Training;

/// <summary>
/// The Fréchet distance between two Gaussians fitted to feature sets (the FID formula, Heusel et al. 2017):
/// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½). Tr((Σ₁Σ₂)^½) equals Tr((Σ₁^½ Σ₂ Σ₁^½)^½), and the latter is the
/// square root of a symmetric positive semi-definite matrix, so both roots come from eigen-decompositions (eigh) in
/// float64 with negative round-off eigenvalues clipped to zero; no complex parts appear as with a general sqrtm.
/// </summary>
internal static class FrechetDistance
{
    /// <summary>Mean (D,) and unbiased covariance (D, D) in float64 of features (N, D), N ≥ 2.</summary>
    public static (Tensor Mean, Tensor Covariance) Statistics(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2 || features.shape[0] < 2)
        {
            throw new ArgumentException($"features must be (N ≥ 2, D); got ({string.Join(", ", features.shape)}).", nameof(features));
        }
        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x.sub(mean);
        var covariance = centred.t().matmul(centred).div_(x.shape[0] - 1);
        return (mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope());
    }

    /// <summary>The distance between N(μ₁, Σ₁) and N(μ₂, Σ₂).</summary>
    public static double Compute(Tensor mean1, Tensor covariance1, Tensor mean2, Tensor covariance2)
    {
        ArgumentNullException.ThrowIfNull(mean1);
        ArgumentNullException.ThrowIfNull(covariance1);
        ArgumentNullException.ThrowIfNull(mean2);
        ArgumentNullException.ThrowIfNull(covariance2);
        using var scope = NewDisposeScope();
        var mu1 = mean1.to(ScalarType.Float64);
        var mu2 = mean2.to(ScalarType.Float64);
        var s1 = covariance1.to(ScalarType.Float64);
        var s2 = covariance2.to(ScalarType.Float64);
        var root1 = SqrtPsd(s1);
        var product = root1.matmul(s2).matmul(root1);
        var traceRoot = SqrtEigenvalues(product.add(product.t()).div_(2)).sum();
        var distance = mu1.sub(mu2).square().sum().add(s1.trace()).add(s2.trace()).sub(traceRoot.mul(2));
        return distance.item<double>();
    }

    /// <summary>The distance between Gaussians fitted to two feature sets (N₁, D) and (N₂, D).</summary>
    public static double FromFeatures(Tensor features1, Tensor features2)
    {
        var (m1, c1) = Statistics(features1);
        var (m2, c2) = Statistics(features2);
        using (m1)
        using (c1)
        using (m2)
        using (c2)
        {
            return Compute(m1, c1, m2, c2);
        }
    }

    // V diag(√max(λ, 0)) Vᵀ of a symmetric PSD matrix (symmetrised first against round-off).
    private static Tensor SqrtPsd(Tensor symmetric)
    {
        using var scope = NewDisposeScope();
        var (values, vectors) = linalg.eigh(symmetric.add(symmetric.t()).div_(2));
        var root = vectors.mul(values.clamp_min(0).sqrt().unsqueeze(0)).matmul(vectors.t());
        return root.MoveToOuterDisposeScope();
    }

    private static Tensor SqrtEigenvalues(Tensor symmetric)
    {
        using var scope = NewDisposeScope();
        var (values, _) = linalg.eigh(symmetric);
        return values.clamp_min(0).sqrt().MoveToOuterDisposeScope();
    }
}
