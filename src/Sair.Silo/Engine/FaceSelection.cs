using Sair.Engine.Alignment;
using Sair.Grains.Engine;

namespace Sair.Silo.Engine;

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
    public static DetectedFace Pick(IReadOnlyList<DetectedFace> faces, FaceChoice choice, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(faces);
        if (faces.Count == 0)
        {
            throw new ArgumentException("no faces to choose from.", nameof(faces));
        }

        return choice switch
        {
            FaceChoice.Largest => faces.MaxBy(f => f.Box.Width * f.Box.Height)!,
            FaceChoice.Center => faces.MinBy(f => Math.Pow(f.Box.CentreX - width / 2.0, 2) + Math.Pow(f.Box.CentreY - height / 2.0, 2))!,
            _ => throw new ArgumentException(
                $"face choice {(int)choice} is unknown: use {string.Join(", ", Enum.GetNames<FaceChoice>())}.", nameof(choice)),
        };
    }
}
