using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Training;

namespace Sair.Grains;

/// <summary>
/// What one request may ask of the grid (section "Sair:Limits"), enforced where every client arrives — the album,
/// job and training grains — not only in the CLI, so a client calling the grains directly cannot hold an engine slot
/// with a two-billion-iteration job or submit a million-photo album. Each breach is an <see cref="ArgumentException"/>
/// naming the limit and its setting.
/// </summary>
public sealed class GridLimits
{
    public const string Section = SettingKeys.Limits;

    /// <summary>The default of <see cref="MaxIterations"/>.</summary>
    public const int DefaultMaxIterations = 100_000;

    /// <summary>Optimisation steps per face.</summary>
    public int MaxIterations { get; set; } = DefaultMaxIterations;

    /// <summary>
    /// The whole photo's upscale a job may ask for (at most <see cref="RestorationOptions.MaxUpscale"/>, what the
    /// engine supports; the engine also caps the result at its pixel limit, Sair:Engine:MaxImagePixels).
    /// </summary>
    public double MaxUpscale { get; set; } = RestorationOptions.MaxUpscale;

    /// <summary>Photos per album.</summary>
    public int MaxAlbumPhotos { get; set; } = 10_000;

    /// <summary>Faces (jobs) per album: a group photo is several.</summary>
    public int MaxAlbumFaces { get; set; } = 50_000;

    /// <summary>Length of a prior-training run in real images shown to the discriminator.</summary>
    public long MaxTrainingImages { get; set; } = 100_000_000;

    /// <summary>Images per training step.</summary>
    public int MaxTrainingBatch { get; set; } = 256;

    /// <summary>Generated samples of an emotion fit.</summary>
    public int MaxEmotionSamples { get; set; } = 100_000;

    /// <summary>
    /// On a grid with tenants, how many jobs (faces being restored, training runs) one tenant may have started and not
    /// finished at once; an album's other faces wait their turn, a training run over the cap is refused. Keeps one
    /// tenant's thousand-photo album from holding every engine slot.
    /// </summary>
    public int MaxTenantJobs { get; set; } = 16;

    /// <summary>
    /// On a grid with tenants, how many bytes of photos one tenant may have uploaded into the image store (album
    /// inputs, references, pool photos); an upload over it is refused. Default 20 GiB.
    /// </summary>
    public long MaxTenantStorageBytes { get; set; } = 20L << 30;

    /// <summary>
    /// The first field of <paramref name="options"/> over this grid's limits, or null — worded like
    /// <see cref="RestorationOptions.Problem"/>, so the CLI names its own flag (it checks against the defaults before
    /// it connects; the grains check against the grid's configured limits).
    /// </summary>
    public OptionsProblem? Problem(RestorationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        static string Number(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return options.Iterations > MaxIterations
                ? new(nameof(RestorationOptions.Iterations), Number(options.Iterations), $"this grid allows at most {MaxIterations} ({Section}:{nameof(MaxIterations)})")
            : options.Upscale > MaxUpscale
                ? new(nameof(RestorationOptions.Upscale), Number(options.Upscale), $"this grid allows at most {Number(MaxUpscale)} ({Section}:{nameof(MaxUpscale)})")
            : null;
    }

    public void Check(RestorationOptions options)
    {
        if (Problem(options) is { } problem)
        {
            throw new ArgumentException(problem.Describe($"RestorationOptions.{problem.Field}"), problem.Field);
        }
    }

    public void Check(AlbumSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Check(spec.Options);
        Within(spec.PhotoPaths.Length, MaxAlbumPhotos, "the album's photo count", nameof(MaxAlbumPhotos));
        Within(spec.Jobs().Count, MaxAlbumFaces, "the album's face count", nameof(MaxAlbumFaces));
    }

    public void Check(TrainingJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Within(spec.TotalImages, MaxTrainingImages, "TrainingJobSpec.TotalImages", nameof(MaxTrainingImages));
        Within(spec.Batch, MaxTrainingBatch, "TrainingJobSpec.Batch", nameof(MaxTrainingBatch));
        Within(spec.Samples ?? 0, MaxEmotionSamples, "TrainingJobSpec.Samples", nameof(MaxEmotionSamples));
    }

    private static void Within(long value, long limit, string what, string setting)
    {
        if (value > limit)
        {
            throw new ArgumentException($"{what} is {value}: this grid allows at most {limit} ({Section}:{setting}).");
        }
    }
}
