using System.Globalization;
using Sair.Engine.FaceNets;
using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// The seven emotion directions Δw_e in W+ (one (n_latent, style_dim) code per emotion, in <see cref="Emotions.Names"/>
/// order) and the strength γ used with each.
/// </summary>
/// <remarks>
/// Two layouts are read: the SAIR authors' folder of <c>emotion_&lt;name&gt;.npy</c> files (float64 (18, 512), all rows
/// identical, not unit-norm; see <see cref="LoadOfficialFolder"/>), and this project's single <c>.npy</c> of shape
/// (7, n_latent, style_dim) in <see cref="Emotions.Names"/> order (<see cref="Save"/> / <see cref="Load"/>).
/// The official code loads the <c>surprise</c> file for <c>happy</c>; here every emotion gets its own file.
/// </remarks>
public sealed class EmotionDirections : IDisposable
{
    /// <summary>γ per emotion as the official code sets it.</summary>
    public static readonly IReadOnlyDictionary<string, double> OfficialGammas = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase)
    {
        ["angry"] = 5,
        ["disgust"] = 2.5,
        ["fear"] = 3,
        ["happy"] = 3,
        ["neutral"] = 3,
        ["sad"] = 8,
        ["surprise"] = 3,
    };

    private readonly Tensor directions;
    private readonly Dictionary<string, double> gammas;

    /// <param name="directions">(7, n_latent, style_dim) in <see cref="Emotions.Names"/> order; copied as float32.</param>
    /// <param name="gammas">γ per emotion name; missing names take <see cref="OfficialGammas"/>.</param>
    public EmotionDirections(Tensor directions, IReadOnlyDictionary<string, double>? gammas = null)
    {
        ArgumentNullException.ThrowIfNull(directions);
        if (directions.dim() != 3 || directions.shape[0] != Emotions.Names.Count)
        {
            throw new ArgumentException(
                $"Emotion directions must be ({Emotions.Names.Count}, n_latent, style_dim) in the order {string.Join(", ", Emotions.Names)}; " +
                $"got ({string.Join(", ", directions.shape)}).", nameof(directions));
        }
        using (var finite = directions.isfinite().all())
        {
            if (!finite.item<bool>())
            {
                throw new ArgumentException("Emotion directions hold NaN or infinite values.", nameof(directions));
            }
        }
        this.directions = directions.detach().to(ScalarType.Float32).cpu().clone().DetachFromDisposeScope();
        this.gammas = new Dictionary<string, double>(OfficialGammas, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, gamma) in gammas ?? new Dictionary<string, double>())
        {
            Emotions.IndexOf(name);
            this.gammas[name] = gamma;
        }
    }

    public int NLatent => (int)directions.shape[1];

    public int StyleDim => (int)directions.shape[2];

    /// <summary>The direction of <paramref name="emotion"/> as a new (1, n_latent, style_dim) float32 CPU tensor.</summary>
    public Tensor Direction(string emotion) => directions[Emotions.IndexOf(emotion)].unsqueeze(0).clone();

    /// <summary>γ of <paramref name="emotion"/>.</summary>
    public double Gamma(string emotion) => gammas[Emotions.Names[Emotions.IndexOf(emotion)]];

    /// <summary>Reads the SAIR authors' <c>emotion_&lt;name&gt;.npy</c> files (one per emotion) from a folder.</summary>
    public static EmotionDirections LoadOfficialFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Emotion direction folder '{folder}' does not exist.");
        }
        var rows = new List<Tensor>();
        try
        {
            foreach (var name in Emotions.Names)
            {
                var path = Path.Combine(folder, $"emotion_{name}.npy");
                CheckpointException.ThrowIfMissing(path, $"emotion direction '{name}'");
                var direction = Npy.Read(path);
                rows.Add(direction);
                if (direction.dim() != 2)
                {
                    throw new CheckpointException(path,
                        $"an emotion direction is (n_latent, style_dim); got ({string.Join(", ", direction.shape)}).");
                }
            }
            if (rows.Any(r => !r.shape.SequenceEqual(rows[0].shape)))
            {
                throw new CheckpointException(folder, "the emotion_<name>.npy files do not all have the same shape.");
            }
            using var stacked = stack(rows);
            return new EmotionDirections(stacked);
        }
        finally
        {
            rows.ForEach(r => r.Dispose());
        }
    }

    /// <summary>Reads this project's single-file layout: a .npy (7, n_latent, style_dim) in <see cref="Emotions.Names"/> order.</summary>
    public static EmotionDirections Load(string path)
    {
        CheckpointException.ThrowIfMissing(path, "emotion directions");
        using var all = Npy.Read(path);
        if (all.dim() != 3 || all.shape[0] != Emotions.Names.Count)
        {
            throw new CheckpointException(path,
                $"expected ({Emotions.Names.Count}, n_latent, style_dim) in the order {string.Join(", ", Emotions.Names)}; " +
                $"got ({string.Join(", ", all.shape)}). For the SAIR authors' emotion_<name>.npy files use LoadOfficialFolder.");
        }
        return new EmotionDirections(all);
    }

    /// <summary>Writes the single-file layout read by <see cref="Load"/> (γ is not stored: it is a run option).</summary>
    public void Save(string path) => Npy.Write(path, directions);

    /// <summary>γ of every emotion, for reports.</summary>
    public override string ToString() =>
        string.Join(", ", Emotions.Names.Select(n => string.Create(CultureInfo.InvariantCulture, $"{n} γ={Gamma(n)}")));

    public void Dispose() => directions.Dispose();
}
