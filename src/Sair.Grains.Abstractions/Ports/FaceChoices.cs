namespace Sair.Grains.Ports;

/// <summary>
/// The one rule for choosing a face of a photo by <see cref="FaceChoice"/>, used by the engine (a lone job, pool
/// enrolment) and by <c>sair</c> when an album keeps one face per photo, so both pick the same face.
/// </summary>
public static class FaceChoices
{
    /// <summary>
    /// The face of <paramref name="faces"/> that <paramref name="choice"/> names in a <paramref name="width"/>×<paramref name="height"/>
    /// photo: the largest box, or the box whose centre is nearest the photo's centre. Ties go to the list's order.
    /// </summary>
    /// <param name="box">Each face's box: left, top, width, height in photo pixels.</param>
    public static T Pick<T>(IReadOnlyList<T> faces, Func<T, (double X, double Y, double Width, double Height)> box, FaceChoice choice, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(box);
        if (faces.Count == 0)
        {
            throw new ArgumentException("no faces to choose from.", nameof(faces));
        }

        return choice switch
        {
            FaceChoice.Largest => faces.MaxBy(f => box(f).Width * box(f).Height)!,
            FaceChoice.Center => faces.MinBy(f =>
            {
                var (x, y, w, h) = box(f);
                return Math.Pow(x + w / 2 - width / 2.0, 2) + Math.Pow(y + h / 2 - height / 2.0, 2);
            })!,
            _ => throw new ArgumentException(
                $"face choice {(int)choice} is unknown: use {string.Join(", ", Enum.GetNames<FaceChoice>())}.", nameof(choice)),
        };
    }
}
