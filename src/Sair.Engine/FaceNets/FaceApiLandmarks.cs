using static TorchSharp.torch;

namespace Sair.Engine.FaceNets;

/// <summary>
/// face-api's 68-point landmark net as a landmark detector: any-size [0,1] RGB is resized to its 112×112 input and
/// the predicted fractions are scaled to the input's pixel grid (continuous coordinates: pixel i spans [i, i+1)).
/// The net was trained on face-detector boxes, so a crop framed like one (a square around the face) suits it best.
/// </summary>
public sealed class FaceApiLandmarks : ILandmarkDetector
{
    private readonly FaceLandmark68Net _net;
    private readonly bool _ownsNet;

    /// <summary>Wraps a loaded net; it is disposed with this adapter only when <paramref name="ownsNet"/> is true.</summary>
    public FaceApiLandmarks(FaceLandmark68Net net, bool ownsNet = false)
    {
        ArgumentNullException.ThrowIfNull(net);
        _net = net;
        _ownsNet = ownsNet;
    }

    /// <summary>Loads the pretrained landmark model through <paramref name="locator"/> and owns it.</summary>
    public static FaceApiLandmarks Load(FaceModelLocator? locator = null) => new(FaceLandmark68Net.Load(locator), ownsNet: true);

    public Tensor Detect(Tensor rgb01)
    {
        using var scope = NewDisposeScope();
        var input = FaceChip.To255(rgb01, FaceLandmark68Net.InputSize, nameof(FaceApiLandmarks));
        var fractions = _net.forward(input);
        var size = tensor(new float[] { rgb01.shape[3], rgb01.shape[2] }, dtype: fractions.dtype, device: fractions.device);
        return (fractions * size).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        if (_ownsNet)
        {
            _net.Dispose();
        }
    }
}
