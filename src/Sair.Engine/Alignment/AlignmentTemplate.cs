using System.Text.Json;
using System.Text.Json.Serialization;
using Sair.Engine.FaceNets;
using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.Alignment;

/// <summary>
/// Where a face goes in the aligned square, in unit coordinates ((0,0) the top-left corner, (1,1) the bottom-right).
/// Either FFHQ's recipe (<see cref="Ffhq"/>), which builds an oriented square from the eyes and the mouth, or a set
/// of reference points (<see cref="Measure"/>, <see cref="FromPoints"/>) that the landmarks are fitted to by a
/// least-squares similarity. A face prior expects its own training crops' framing, so a prior trained on crops other
/// than FFHQ's needs a template measured on those crops.
/// </summary>
public sealed class AlignmentTemplate
{
    private readonly double[]? _points;

    private AlignmentTemplate(double[]? points) => _points = points;

    /// <summary>
    /// The FFHQ alignment recipe: with e = eye-to-eye and m = eye-to-mouth (eye midpoint to mouth-corner midpoint),
    /// the centre is eye_avg + 0.1·m, x = e − rot90(m) normalised and scaled by max(2|e|, 1.8|m|), y = rot90(x);
    /// the aligned square is c ± x ± y.
    /// </summary>
    public static AlignmentTemplate Ffhq { get; } = new(null);

    /// <summary>True for <see cref="Ffhq"/>, which has no fixed reference points.</summary>
    public bool IsFfhqRecipe => _points is null;

    /// <summary>Number of reference points (5 or 68); 0 for the FFHQ recipe.</summary>
    public int PointCount => _points is null ? 0 : _points.Length / 2;

    /// <summary>A template from reference points (5 or 68, see <see cref="FacePoints"/>) in unit coordinates.</summary>
    public static AlignmentTemplate FromPoints(Tensor unitPoints) => new(FacePoints.Read(unitPoints));

    /// <summary>
    /// Where a dlib face chip (the npm identity nets' training framing) lies in a face aligned to this template: for
    /// FFHQ the measured <see cref="FaceCrop.DlibChipInFfhq"/>; for a measured template, that same box carried over by
    /// the FFHQ recipe applied to the template's own points, as the axis-aligned square around it clipped to the image
    /// (a tight template can frame less than a whole chip).
    /// </summary>
    public FaceCrop DlibChip()
    {
        if (_points is null)
        {
            return FaceCrop.DlibChipInFfhq;
        }
        var unitToFfhq = FfhqQuad(FacePoints.FivePoints(_points));
        var ffhqToUnit = unitToFfhq.Inverse();
        var chip = FaceCrop.DlibChipInFfhq;
        var corners = new[] { (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0) }
            .Select(c => ffhqToUnit.Apply(chip.Left + c.Item1 * chip.Size, chip.Top + c.Item2 * chip.Size))
            .ToArray();
        var (cx, cy) = (corners.Average(c => c.X), corners.Average(c => c.Y));
        var half = corners.Max(c => Math.Max(Math.Abs(c.X - cx), Math.Abs(c.Y - cy)));
        var left = Math.Clamp(cx - half, 0, 1);
        var top = Math.Clamp(cy - half, 0, 1);
        var size = Math.Min(Math.Min(cx + half, 1) - left, Math.Min(cy + half, 1) - top);
        return new FaceCrop(left, top, size);
    }

    /// <summary>
    /// Writes the reference points as JSON (<c>{"points": [[x, y], ...]}</c>, unit coordinates), the form a prior ships
    /// its framing in; throws for the FFHQ recipe, which needs no file.
    /// </summary>
    public void Save(string path)
    {
        var points = _points ?? throw new InvalidOperationException("the FFHQ recipe is built in: it has no points to save.");
        var rows = Enumerable.Range(0, points.Length / 2).Select(i => new[] { points[2 * i], points[2 * i + 1] }).ToArray();
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(new TemplateFile(rows), new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Reads a template written by <see cref="Save"/> (5 or 68 points in unit coordinates).</summary>
    public static AlignmentTemplate Load(string path)
    {
        CheckpointException.ThrowIfMissing(path, "alignment template");
        TemplateFile? file;
        try
        {
            file = JsonSerializer.Deserialize<TemplateFile>(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"not an alignment template ({e.Message}); expected {{\"points\": [[x, y], ...]}}.");
        }
        var rows = file?.Points;
        if (rows is null || rows.Length is not (5 or 68) || rows.Any(r => r is null || r.Length != 2 || r.Any(v => !double.IsFinite(v))))
        {
            throw new CheckpointException(path, "an alignment template holds 5 or 68 finite [x, y] points in unit coordinates under \"points\".");
        }
        return new AlignmentTemplate(rows.SelectMany(r => r).ToArray());
    }

    /// <summary>
    /// The mean of landmark sets given in unit coordinates of their own images (pixel landmarks divided by the
    /// image's width and height), all 5-point or all 68-point: the framing those images share.
    /// </summary>
    public static AlignmentTemplate Measure(IEnumerable<Tensor> unitLandmarkSets)
    {
        ArgumentNullException.ThrowIfNull(unitLandmarkSets);
        double[]? sum = null;
        var count = 0;
        foreach (var set in unitLandmarkSets)
        {
            var points = FacePoints.Read(set);
            sum ??= new double[points.Length];
            if (points.Length != sum.Length)
            {
                throw new ArgumentException(
                    $"landmark set {count} has {points.Length / 2} points, the first had {sum.Length / 2}; measure 5-point and 68-point sets separately.",
                    nameof(unitLandmarkSets));
            }
            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += points[i];
            }
            count++;
        }
        if (sum is null)
        {
            throw new ArgumentException("no landmark sets to measure a template from.", nameof(unitLandmarkSets));
        }
        return new AlignmentTemplate(sum.Select(v => v / count).ToArray());
    }

    /// <summary>The reference points as a (K, 2) tensor in unit coordinates; throws for the FFHQ recipe.</summary>
    public Tensor Points()
    {
        var points = _points ?? throw new InvalidOperationException("the FFHQ recipe has no fixed reference points; its eye positions depend on each face.");
        return tensor(points, [points.Length / 2, 2]);
    }

    /// <summary>
    /// The similarity that takes photo pixels to this template's unit square, fitted to <paramref name="landmarks"/>
    /// (pixel coordinates, 5 or 68 points).
    /// </summary>
    public Affine2D PhotoToUnit(Tensor landmarks) => PhotoToUnit(FacePoints.Read(landmarks));

    /// <inheritdoc cref="PhotoToUnit(Tensor)"/>
    public Affine2D PhotoToUnit(double[] landmarks)
    {
        if (_points is null)
        {
            return FfhqQuad(landmarks);
        }
        var source = landmarks;
        if (_points.Length != landmarks.Length)
        {
            if (_points.Length != 10)
            {
                throw new ArgumentException(
                    $"this template has {_points.Length / 2} points but the landmarks have {landmarks.Length / 2}; use a 5-point template or 68 landmarks.",
                    nameof(landmarks));
            }
            source = FacePoints.FivePoints(landmarks);
        }
        return FitSimilarity(source, _points);
    }

    /// <summary>FFHQ's oriented square, as the map taking its top-left, top-right and bottom-left corners to (0,0), (1,0), (0,1).</summary>
    private static Affine2D FfhqQuad(double[] landmarks)
    {
        var (eyeLeft, eyeRight) = FacePoints.EyeCentres(landmarks);
        var (mouthLeft, mouthRight) = FacePoints.MouthCorners(landmarks);
        var eyeAvg = ((eyeLeft.X + eyeRight.X) / 2, (eyeLeft.Y + eyeRight.Y) / 2);
        var eyeToEye = (X: eyeRight.X - eyeLeft.X, Y: eyeRight.Y - eyeLeft.Y);
        var mouthAvg = ((mouthLeft.X + mouthRight.X) / 2, (mouthLeft.Y + mouthRight.Y) / 2);
        var eyeToMouth = (X: mouthAvg.Item1 - eyeAvg.Item1, Y: mouthAvg.Item2 - eyeAvg.Item2);
        // rot90(v) = (−v.y, v.x): FFHQ's flipud(v)·[−1, 1].
        var x = (X: eyeToEye.X + eyeToMouth.Y, Y: eyeToEye.Y - eyeToMouth.X);
        var length = Math.Sqrt(x.X * x.X + x.Y * x.Y);
        if (length < 1e-9)
        {
            throw new ArgumentException("the eyes and mouth coincide; these landmarks cannot be aligned.", nameof(landmarks));
        }
        var half = Math.Max(Hypot(eyeToEye) * 2.0, Hypot(eyeToMouth) * 1.8);
        x = (x.X / length * half, x.Y / length * half);
        var y = (X: -x.Y, Y: x.X);
        var centre = (X: eyeAvg.Item1 + 0.1 * eyeToMouth.X, Y: eyeAvg.Item2 + 0.1 * eyeToMouth.Y);
        var topLeft = (X: centre.X - x.X - y.X, Y: centre.Y - x.Y - y.Y);
        // u = x·(p − TL) / (2|x|²), v = y·(p − TL) / (2|y|²), with |x| = |y| = half.
        var k = 1 / (2 * half * half);
        return new Affine2D(
            k * x.X, k * x.Y, -k * (x.X * topLeft.X + x.Y * topLeft.Y),
            k * y.X, k * y.Y, -k * (y.X * topLeft.X + y.Y * topLeft.Y));
    }

    /// <summary>The least-squares similarity (rotation, uniform scale, translation) taking <paramref name="from"/> to <paramref name="to"/>.</summary>
    internal static Affine2D FitSimilarity(double[] from, double[] to)
    {
        var n = from.Length / 2;
        double fx = 0, fy = 0, tx = 0, ty = 0;
        for (var i = 0; i < n; i++)
        {
            fx += from[2 * i];
            fy += from[2 * i + 1];
            tx += to[2 * i];
            ty += to[2 * i + 1];
        }
        fx /= n;
        fy /= n;
        tx /= n;
        ty /= n;
        double dot = 0, cross = 0, norm = 0;
        for (var i = 0; i < n; i++)
        {
            var px = from[2 * i] - fx;
            var py = from[2 * i + 1] - fy;
            var qx = to[2 * i] - tx;
            var qy = to[2 * i + 1] - ty;
            dot += px * qx + py * qy;
            cross += px * qy - py * qx;
            norm += px * px + py * py;
        }
        if (norm < 1e-12)
        {
            throw new ArgumentException("the landmarks all coincide; these landmarks cannot be aligned.", nameof(from));
        }
        var a = dot / norm;
        var b = cross / norm;
        return new Affine2D(a, -b, tx - (a * fx - b * fy), b, a, ty - (b * fx + a * fy));
    }

    private static double Hypot((double X, double Y) v) => Math.Sqrt(v.X * v.X + v.Y * v.Y);

    private sealed record TemplateFile([property: JsonPropertyName("points")] double[][] Points);
}
