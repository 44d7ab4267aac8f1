using static TorchSharp.torch;

namespace Sair.Engine.FaceNets;

/// <summary>68 facial landmarks in the iBUG-68 order, for aligned face crops.</summary>
public interface ILandmarkDetector : IDisposable
{
    /// <summary>
    /// Landmarks of (B,3,H,W) RGB images in [0,1] (aligned face crops, any size) as (B,68,2) pixel coordinates (x, y)
    /// in the input's own pixel grid.
    /// </summary>
    Tensor Detect(Tensor rgb01);
}
