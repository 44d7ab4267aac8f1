using Sair.Engine.FaceNets;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Training;

/// <summary>
/// FFD, a face-specific stand-in for FID: the <see cref="FrechetDistance"/> between generated and real faces in the
/// 128-d embedding space of face-api's recogniser. Images are upsampled bilinearly to 150×150 and mapped to RGB
/// 0..255 as the recogniser expects. Lower is better; the absolute value is only comparable within one sample count.
/// </summary>
public sealed class FaceFrechetDistance : IDisposable
{
    private const int ChunkSize = 32;

    private readonly FaceRecognitionNet _net;
    private readonly bool _ownsNet;
    private Tensor? _referenceMean;
    private Tensor? _referenceCovariance;

    /// <summary>Uses <paramref name="net"/>; disposes it with this object when <paramref name="ownsNet"/>.</summary>
    public FaceFrechetDistance(FaceRecognitionNet net, bool ownsNet = false)
    {
        ArgumentNullException.ThrowIfNull(net);
        _net = net;
        _ownsNet = ownsNet;
    }

    /// <summary>Whether <see cref="SetReference"/> has been called.</summary>
    public bool HasReference => _referenceMean is not null;

    /// <summary>Descriptors (N, 128) of images (N, 3, S, S) in [−1, 1], computed in chunks without gradients.</summary>
    public Tensor Embed(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var noGrad = no_grad();
        var chunks = new List<Tensor>();
        try
        {
            for (long start = 0; start < images.shape[0]; start += ChunkSize)
            {
                using var scope = NewDisposeScope();
                var chunk = images.narrow(0, start, Math.Min(ChunkSize, images.shape[0] - start)).to(ScalarType.Float32);
                var resized = F.interpolate(chunk, [FaceRecognitionNet.InputSize, FaceRecognitionNet.InputSize],
                    mode: InterpolationMode.Bilinear, align_corners: false);
                var rgb255 = resized.add(1).mul_(127.5).clamp_(0, 255);
                chunks.Add(_net.forward(rgb255).MoveToOuterDisposeScope());
            }
            return cat(chunks, 0);
        }
        finally
        {
            foreach (var c in chunks)
            {
                c.Dispose();
            }
        }
    }

    /// <summary>Fits the reference Gaussian to real images (N ≥ 2, 3, S, S) in [−1, 1].</summary>
    public void SetReference(Tensor realImages)
    {
        using var features = Embed(realImages);
        var (mean, covariance) = FrechetDistance.Statistics(features);
        _referenceMean?.Dispose();
        _referenceCovariance?.Dispose();
        _referenceMean = mean.DetachFromDisposeScope();
        _referenceCovariance = covariance.DetachFromDisposeScope();
    }

    /// <summary>FFD of generated images (N ≥ 2, 3, S, S) in [−1, 1] against the reference.</summary>
    public double Measure(Tensor generatedImages)
    {
        if (_referenceMean is null || _referenceCovariance is null)
        {
            throw new InvalidOperationException("call SetReference with real images before measuring FFD.");
        }
        using var features = Embed(generatedImages);
        var (mean, covariance) = FrechetDistance.Statistics(features);
        using (mean)
        using (covariance)
        {
            return FrechetDistance.Compute(mean, covariance, _referenceMean, _referenceCovariance);
        }
    }

    public void Dispose()
    {
        _referenceMean?.Dispose();
        _referenceCovariance?.Dispose();
        if (_ownsNet)
        {
            _net.Dispose();
        }
    }
}
