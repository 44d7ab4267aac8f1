using Sair.Engine.Alignment;
using Sair.Grains.Ports;

namespace Sair.Silo.Adapters;

/// <summary>
/// The one face of a photo the grid works on (it restores one face per photo; pools enrol one face per photo), chosen
/// the same way by the engine's restoration and by pool matching, so a job's identity comes from the face it restores.
/// </summary>
public static class FaceSelection
{
    /// <summary>
    /// The face of <paramref name="faces"/> that <paramref name="choice"/> names in a <paramref name="width"/>×<paramref name="height"/>
    /// photo: the largest box, or the box whose centre is nearest the photo's centre. Ties go to the detector's order (best score first).
    /// </summary>
    public static DetectedFace Pick(IReadOnlyList<DetectedFace> faces, FaceChoice choice, int width, int height) =>
        FaceChoices.Pick(faces, f => (f.Box.X, f.Box.Y, f.Box.Width, f.Box.Height), choice, width, height);
}
