using System.Globalization;
using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Sair.Engine.Imaging;
using Sair.Engine.IO;
using Sair.Engine.Restoration;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using Sair.Grains.Ports;
using static TorchSharp.torch;
using EngineCheckpoint = Sair.Engine.Restoration.RestorationCheckpoint;
using GridCheckpoint = Sair.Grains.Ports.CheckpointBlob;

namespace Sair.Silo.Adapters;

/// <summary>
/// The grid's <see cref="IRestorationEngine"/> over <see cref="SairRestorer"/>: decodes the degraded face (detecting and
/// aligning it first when the input is a whole photo) and the references, maps the job's options onto a SAIR preset,
/// runs the optimisation on a worker thread with the silo's generator (in batched passes with the silo's other running
/// jobs when <see cref="SairEngineOptions.BatchSize"/> is above 1), and hands checkpoints, progress, the restored
/// face and, for a whole photo, its aligned crop and the photo with the restored face pasted back to the grid.
/// </summary>
public sealed class SairRestorationEngine(EngineModels models) : IRestorationEngine
{
    /// <remarks>
    /// A run that keeps going non-finite fails with a <see cref="NonFiniteException"/> naming the term; a libtorch error
    /// reaches the grid as a <see cref="LibTorchException"/> without its native backtrace.
    /// </remarks>
    public Task<RestorationOutcome> RestoreAsync(RestorationRequest request, IProgress<RestorationProgress> progress, CancellationToken cancellationToken) =>
        NativeErrors.ForUserAsync(() => RestoreOnWorkerAsync(request, progress, cancellationToken));

    private async Task<RestorationOutcome> RestoreOnWorkerAsync(
        RestorationRequest request, IProgress<RestorationProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(progress);
        request.Options.Validate();
        await models.Readiness.WhenReadyAsync(cancellationToken);
        var options = ToSairOptions(request.Options, models.EmotionDirections is not null, models.Options.ProjectionIterations);
        using var lease = await models.AcquireGeneratorAsync(cancellationToken);
        return await Task.Run(() => Restore(request, lease.Generator, options, progress, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// The SAIR options of a job: its preset with the job's iterations, seed, checkpoint interval, D's JPEG stage and emotion. Without
    /// emotion directions on this silo the emotion term is off, and naming an emotion is an error.
    /// </summary>
    public static SairOptions ToSairOptions(RestorationOptions options, bool hasEmotionDirections, int projectionIterations)
    {
        ArgumentNullException.ThrowIfNull(options);
        var preset = RestorationPresets.Find(options.Preset) switch
        {
            RestorationPresets.Paper => SairOptions.Paper(),
            RestorationPresets.PaperBackProjected => SairOptions.PaperBackProjected(),
            RestorationPresets.PaperPivotalTuned => SairOptions.PaperPivotalTuned(),
            RestorationPresets.Official => SairOptions.Official(),
            _ => throw new ArgumentException(
                $"Unknown preset '{options.Preset}': use one of {string.Join(", ", RestorationPresets.All)}.", nameof(options)),
        };
        string? emotion = null;
        if (options.Emotion is { } named)
        {
            if (!hasEmotionDirections)
            {
                throw new InvalidOperationException(
                    $"The job asks for the emotion '{named}' but this engine has no emotion directions: set " +
                    "Sair:Engine:EmotionDirectionsPath (Sair__Engine__EmotionDirectionsPath) to directions fitted for its generator, or leave the emotion out.");
            }

            emotion = Emotions.Names[Emotions.IndexOf(named)];
        }

        var jpegQuality = options.JpegQuality ?? preset.JpegQuality;
        return preset with
        {
            Iterations = options.Iterations,
            Seed = options.Seed,
            CheckpointInterval = options.CheckpointEvery,
            JpegQuality = jpegQuality,
            IdentityWeight = options.IdentityWeight ?? preset.IdentityWeight,
            // Back-projection inverts D's linear part only; onto a JPEG input it puts the blocks back and lowered the
            // independent identity score on the ×2 + JPEG q30 benchmark (docs/quality.md), so a JPEG D goes without it.
            BackProjectionSteps = jpegQuality is null ? preset.BackProjectionSteps : 0,
            Emotion = emotion,
            EmotionWeight = hasEmotionDirections ? preset.EmotionWeight : 0,
            Projection = preset.Projection with { Iterations = projectionIterations, Seed = options.Seed },
        };
    }

    private RestorationOutcome Restore(RestorationRequest request, StyleGan2Generator generator, SairOptions options,
        IProgress<RestorationProgress> progress, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var size = generator.Config.Size;
        var input = request.Framing == FaceFraming.Unaligned ? WholePhotoInput(request, size) : new DegradedFace(DegradedInput(request, size), null);
        var y = input.Y;
        var (reference, computedLatent) = Reference(request, generator, options, cancellationToken);
        var hasIdentity = request.References.Count > 0;
        if (!hasIdentity)
        {
            // No reference: no identity to pull toward and no photo to tune the generator to.
            options = options with { IdentityWeight = 0, PivotalTuning = new() };
        }

        using var directions = JobDirections(request.Options, options.Emotion);
        var restorer = new SairRestorer(generator, hasIdentity ? models.Identity : null, models.Landmarks, models.Expressions,
            directions ?? models.EmotionDirections, models.TuningCache);
        using var resume = request.ResumeFrom is { } from ? Checkpoint(request.JobId, from) : null;

        void Persist(EngineCheckpoint checkpoint)
        {
            using (checkpoint)
            {
                // The optimisation waits for the write: the grid may resume from this checkpoint once it returns.
                request.PersistCheckpointAsync(new GridCheckpoint(checkpoint.NextIteration, checkpoint.ToBytes()), cancellationToken)
                    .GetAwaiter().GetResult();
            }
        }

        var reports = new ProgressAdapter(progress, options.IdentityWeight);
        using var result = models.Batcher is { } batcher
            ? batcher.Restore(restorer, y, reference, options, reports, cancellationToken, resume, Persist)
            : restorer.Restore(y, reference, options, reports, cancellationToken, resume, Persist);
        using var image = ImageTensors.ToImage(result.Image);
        var (cropped, pasted) = input.Photo is { } photo
            ? (Png(y), Png(photo.KeepsItsFace is null ? PasteBack(photo, result.Image, request.Options.Upscale) : Canvas(photo, request.Options.Upscale).Pixels))
            : (null, null);
        return new RestorationOutcome(
            ImageFiles.Encode(image, "png"), options.Iterations, result.History[^1].Total, result.IdentitySimilarity, computedLatent,
            cropped, pasted, input.Photo?.KeepsItsFace, hasIdentity ? models.Identity.Name : null,
            LossCurve(result.History.Select(r => r.Total).ToList()));
    }

    /// <summary>
    /// Below this PSNR between a photo's face (aligned at its own resolution) and the same face taken down to G's size
    /// and back, the photo holds detail that G's output cannot: pasting the restoration back would blur it. Measured
    /// against 64 px on the five johns chips (150 px photos, aligned squares of 213–223 px; test
    /// Detail_psnr_tells_sharp_faces_from_enlarged_small_ones): as they are 30.1–36.3 dB, after a trip through 32 px
    /// 38.5–45.6 dB. The threshold sits between the two.
    /// </summary>
    public const double SharperThanGeneratorPsnr = 37.5;

    /// <summary>
    /// PSNR (dB) of <paramref name="face"/> (1, 3, s, s) against itself taken down to <paramref name="size"/> and back
    /// up: high when the face holds no more detail than <paramref name="size"/> pixels can, low when it does.
    /// </summary>
    public static double DetailPsnr(Tensor face, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var side = face.shape[^1];
        var down = nn.functional.interpolate(face, size: [size, size], mode: InterpolationMode.Bicubic, align_corners: false, antialias: true);
        var up = nn.functional.interpolate(down, size: [side, side], mode: InterpolationMode.Bicubic, align_corners: false).clamp(0, 1);
        var mse = Math.Max((face - up).square().mean().item<float>(), 1e-10);
        return 10 * Math.Log10(1 / mse);
    }

    /// <summary>Y, and the whole photo it was cut from (null for an aligned input).</summary>
    private sealed record DegradedFace(Tensor Y, WholePhoto? Photo);

    /// <summary>
    /// A whole photo (1, 3, H, W) in [0, 1] and where its restored face was cut from; <see cref="KeepsItsFace"/> says
    /// why the restored face is not pasted back (null: it is).
    /// </summary>
    private sealed record WholePhoto(Tensor Pixels, AlignmentTransform Transform, string? KeepsItsFace);

    /// <summary>
    /// Detects the faces of a whole photo, picks the job's (<see cref="RestorationOptions.Face"/>) and aligns it to the FFHQ
    /// template at the largest side dividing G's side that the face's own resolution supports (so Y is not enlarged
    /// past what the photo holds, and the degradation scale S / s is an integer).
    /// </summary>
    private DegradedFace WholePhotoInput(RestorationRequest request, int size)
    {
        var source = $"job {request.JobId} input photo";
        using var decoded = ImageFiles.Decode(request.InputPng, source, Limits());
        var pixels = ImageTensors.ToTensor(decoded);
        using var noGrad = no_grad();
        if (request.Face is { } located)
        {
            // The album found this face (and matched it): restore exactly it, without detecting again.
            var landmarks = LandmarksOf(located);
            var (face, photo) = AlignedFace(pixels, landmarks, size);
            return new DegradedFace(face, photo);
        }

        var faces = models.Detector.Detect(pixels);
        try
        {
            if (faces.Count == 0)
            {
                throw new FaceNotFoundException(
                    $"No face found in {source} ({decoded.Width}×{decoded.Height}): use a photo showing the face from the front, at least " +
                    "about 40 pixels wide, with some background around it; or, if it is an aligned face crop, submit it with --aligned.");
            }

            var picked = FaceSelection.Pick(faces, request.Options.Face, decoded.Width, decoded.Height);
            var (face, photo) = AlignedFace(pixels, picked.Landmarks, size);
            return new DegradedFace(face, photo);
        }
        finally
        {
            foreach (var face in faces)
            {
                face.Dispose();
            }
        }
    }

    /// <summary>Most points a result's loss curve keeps: enough to draw it, small enough for an album's state of a thousand faces.</summary>
    public const int MaxLossPoints = 200;

    /// <summary>
    /// The objective at every iteration, or at <see cref="MaxLossPoints"/> evenly spaced ones (the first and last
    /// included) when the run is longer.
    /// </summary>
    public static float[] LossCurve(IReadOnlyList<double> totals)
    {
        ArgumentNullException.ThrowIfNull(totals);
        if (totals.Count <= MaxLossPoints)
        {
            return [.. totals.Select(t => (float)t)];
        }

        return [.. Enumerable.Range(0, MaxLossPoints).Select(i => (float)totals[(int)Math.Round(i * (totals.Count - 1.0) / (MaxLossPoints - 1))])];
    }

    /// <summary>The 68 landmarks of a located face as the (68, 2) tensor alignment takes.</summary>
    public static Tensor LandmarksOf(FaceLocation face)
    {
        ArgumentNullException.ThrowIfNull(face);
        face.Validate();
        return tensor(face.Landmarks).reshape(68, 2);
    }

    /// <summary>
    /// The face aligned to the FFHQ template at the largest side dividing G's side that the face's own resolution
    /// supports (so Y is not enlarged past what the photo holds, and the degradation scale S / s is an integer), and the
    /// photo it goes back into.
    /// </summary>
    private (Tensor Face, WholePhoto Photo) AlignedFace(Tensor pixels, Tensor landmarks, int size)
    {
        var photo = PhotoOf(pixels, landmarks, size);
        var aligned = FaceAligner.Align(pixels, landmarks, photo.Transform.OutputSize, models.Template);
        return (aligned.Face.clamp(0, 1), photo);
    }

    /// <summary>The photo a face goes back into: where the face sits (at <see cref="AlignedSide"/>) and whether it keeps its own pixels.</summary>
    private WholePhoto PhotoOf(Tensor pixels, Tensor landmarks, int size)
    {
        var photoToUnit = models.Template.PhotoToUnit(landmarks);
        var side = AlignedSide(photoToUnit, size);
        return new WholePhoto(pixels, FaceAligner.Transform(landmarks, side, models.Template), KeepsItsFace(pixels, landmarks, photoToUnit, size));
    }

    /// <summary>
    /// Pastes several restored faces back into their photo, in order, each as <see cref="PasteBack"/> pastes one; a face
    /// the photo holds sharper than G keeps its own pixels. The photo is enlarged by <paramref name="upscale"/> once.
    /// </summary>
    public Tensor Compose(Tensor pixels, IReadOnlyList<(Tensor Landmarks, Tensor RestoredFace)> faces, double upscale, int size)
    {
        ArgumentNullException.ThrowIfNull(faces);
        if (faces.Count == 0)
        {
            throw new ArgumentException("No faces to paste back.", nameof(faces));
        }

        using var noGrad = no_grad();
        Tensor? canvas = null;
        foreach (var (landmarks, restored) in faces)
        {
            // Only where the face goes is needed, not its aligned crop.
            var photo = PhotoOf(pixels, landmarks, size);
            // The photo is enlarged once; every later face only needs where it sits on it.
            canvas ??= Canvas(photo, upscale).Pixels;
            var transform = CanvasTransform(photo, upscale);
            if (photo.KeepsItsFace is null)
            {
                var feather = 0.1 * transform.OutputSize * transform.Scale;
                canvas = FaceAligner.PasteBack(canvas, restored.cpu().clamp(0, 1), transform, feather);
            }
        }

        return canvas!;
    }

    /// <summary>
    /// Why the photo should keep its own face rather than receive G's <paramref name="size"/> px restoration, or null:
    /// only a face larger than G's output in the photo can hold more detail than G, and only if it measurably does
    /// (<see cref="DetailPsnr"/> below <see cref="SharperThanGeneratorPsnr"/>) — a large but blurred face is still
    /// replaced.
    /// </summary>
    private string? KeepsItsFace(Tensor pixels, Tensor landmarks, Affine2D photoToUnit, int size)
    {
        var photoSide = PhotoSide(photoToUnit);
        if (photoSide <= size)
        {
            return null;
        }

        // At most 4 × G's side: enough to see detail beyond G, and a bounded cost for very large faces.
        var nativeSide = (int)Math.Min(Math.Round(photoSide), 4 * size);
        using var native = FaceAligner.Align(pixels, landmarks, nativeSide, models.Template);
        var psnr = DetailPsnr(native.Face.clamp(0, 1), size);
        return psnr >= SharperThanGeneratorPsnr
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"The photo kept its own face: it is {photoSide:0} px wide there and sharper than the generator's {size} px output (detail PSNR {psnr:0.0} dB < {SharperThanGeneratorPsnr:0} dB), so pasting the restoration back would blur it; restored_faces/ holds the restoration.");
    }

    private static double PhotoSide(Affine2D photoToUnit) => 1 / Math.Sqrt(Math.Abs(photoToUnit.Determinant));

    /// <summary>
    /// The side of the aligned crop: the largest divisor of <paramref name="size"/> not above the aligned square's side in
    /// photo pixels; at least the smallest divisor of 8 or more (alignment needs 8 px), at most <paramref name="size"/>.
    /// </summary>
    public static int AlignedSide(Affine2D photoToUnit, int size)
    {
        var photoSide = PhotoSide(photoToUnit);
        var divisors = Enumerable.Range(1, size).Where(d => size % d == 0 && d >= Math.Min(8, size)).ToList();
        return divisors.LastOrDefault(d => d <= photoSide, divisors[0]);
    }

    /// <summary>
    /// The photo enlarged by <paramref name="upscale"/> (bicubic; kept within the silo's pixel limit) with the restored
    /// face warped back to its place and blended in over a feathered edge; elsewhere the enlarged photo is unchanged.
    /// </summary>
    private Tensor PasteBack(WholePhoto photo, Tensor restoredFace, double upscale)
    {
        var (canvas, transform) = Canvas(photo, upscale);
        // The aligned square is about twice the face: a tenth of its side blends the seam well away from the face.
        var feather = 0.1 * transform.OutputSize * transform.Scale;
        return FaceAligner.PasteBack(canvas, restoredFace.detach().cpu().clamp(0, 1), transform, feather);
    }

    /// <summary>The photo enlarged by <paramref name="upscale"/> (bicubic; kept within the silo's pixel limit), and where the face sits on it.</summary>
    private (Tensor Pixels, AlignmentTransform Transform) Canvas(WholePhoto photo, double upscale)
    {
        var (height, width) = (photo.Pixels.shape[2], photo.Pixels.shape[3]);
        var (newHeight, newWidth) = CanvasSize(photo, upscale);
        var canvas = newHeight == height && newWidth == width
            ? photo.Pixels
            : nn.functional.interpolate(photo.Pixels, size: [newHeight, newWidth], mode: InterpolationMode.Bicubic, align_corners: false,
                antialias: newWidth < width).clamp(0, 1);
        return (canvas, CanvasTransform(photo, upscale));
    }

    /// <summary>The enlarged photo's size: the input × <paramref name="upscale"/>, kept within the silo's pixel limit.</summary>
    private (long Height, long Width) CanvasSize(WholePhoto photo, double upscale)
    {
        var (height, width) = (photo.Pixels.shape[2], photo.Pixels.shape[3]);
        upscale = Math.Min(upscale, Math.Sqrt((double)models.Options.MaxImagePixels / (height * width)));
        return (Math.Max(1, (long)Math.Round(height * upscale)), Math.Max(1, (long)Math.Round(width * upscale)));
    }

    /// <summary>Where the face sits on the enlarged photo (no pixels computed).</summary>
    private AlignmentTransform CanvasTransform(WholePhoto photo, double upscale)
    {
        var (height, width) = (photo.Pixels.shape[2], photo.Pixels.shape[3]);
        var (newHeight, newWidth) = CanvasSize(photo, upscale);
        var toCanvas = Affine2D.ScaleTranslate((double)width / newWidth, (double)height / newHeight).Then(photo.Transform.PhotoToAligned);
        return new AlignmentTransform(toCanvas, photo.Transform.OutputSize);
    }

    private static byte[] Png(Tensor image)
    {
        using var picture = ImageTensors.ToImage(image);
        return ImageFiles.Encode(picture, "png");
    }

    /// <summary>Y as (1, 3, s, s) in [0, 1], with s dividing G's side: the restorer's degradation scale is S / s.</summary>
    private Tensor DegradedInput(RestorationRequest request, int size)
    {
        var source = $"job {request.JobId} input photo";
        using var decoded = ImageFiles.Decode(request.InputPng, source, Limits());
        var (width, height) = (decoded.Width, decoded.Height);
        if (width != height)
        {
            throw new ArgumentException(
                $"{source} is {width}×{height} but was given as an aligned face, which is square: submit it as an ordinary photo " +
                "(without --aligned) so its face is detected and aligned, or crop and align it first.");
        }

        if (width > size || size % width != 0)
        {
            throw new ArgumentException(
                $"{source} is {width}×{width} but the generator makes {size}×{size} faces: the input's side must divide {size} " +
                $"(e.g. {size / 4} or {size / 8} for 4× or 8× restoration); resize it to such a side or use a generator whose size it divides.");
        }

        return ImageTensors.ToTensor(decoded);
    }

    /// <summary>
    /// The first reference as w_z and/or Z; the mean latent without identity when the job has no references. A photo
    /// without an attached latent is projected into W+ here, and the projection's bytes are returned so the grid can
    /// cache them on the reference.
    /// </summary>
    private (ReferenceInput Input, byte[]? ComputedLatent) Reference(
        RestorationRequest request, StyleGan2Generator generator, SairOptions options, CancellationToken cancellationToken)
    {
        if (request.References.Count == 0)
        {
            return (ReferenceInput.FromLatent(models.MeanWPlus), null);
        }

        // SairRestorer takes one reference: the first the job lists (a pool lists them in enrolment order).
        var face = request.References[0];
        var photo = AlignedReference(request.JobId, face, generator.Config.Size);
        if (face.Latent is not null)
        {
            return (ReferenceInput.FromLatent(ReadLatent(request.JobId, face), photo), null);
        }

        // The inversion's latent outlives dispose scopes; a scoped copy keeps it from outliving the job. An album's faces
        // against one reference photo project it once (the silo keeps the inversion).
        using var inversion = models.InversionCache.Projected(generator, photo, options.Projection, models.Identity, cancellationToken);
        return (ReferenceInput.FromLatent(inversion.Latent.clone(), photo), inversion.ToBytes());
    }

    private Tensor AlignedReference(string jobId, ReferenceFace face, int size)
    {
        var source = $"job {jobId} reference '{face.ReferenceId}'";
        using var decoded = ImageFiles.Decode(face.AlignedFacePng, source, Limits());
        if (decoded.Width != decoded.Height)
        {
            throw new ArgumentException($"{source} is {decoded.Width}×{decoded.Height}; a reference is a square aligned face (enrol it through a pool).");
        }

        var photo = ImageTensors.ToTensor(decoded);
        return decoded.Width == size
            ? photo
            : nn.functional.interpolate(photo, size: [size, size], mode: InterpolationMode.Bicubic, align_corners: false,
                antialias: decoded.Width > size).clamp(0, 1);
    }

    /// <summary>The attached latent: any file <see cref="LatentFile"/> reads (an e4e .pt, .npy, or safetensors such as a <see cref="ReferenceInversion"/>).</summary>
    private Tensor ReadLatent(string jobId, ReferenceFace face)
    {
        var generator = models.Generator;
        var path = Path.Combine(Path.GetTempPath(), $"sair-latent-{Guid.NewGuid():N}.bin");
        try
        {
            File.WriteAllBytes(path, face.Latent!);
            return LatentFile.Load(path, generator.NLatent, generator.Config.StyleDim);
        }
        catch (CheckpointException e)
        {
            throw new InvalidDataException(
                $"Job {jobId}: the latent attached to reference '{face.ReferenceId}' is unusable ({e.Message}); " +
                "attach a W+ latent made for this engine's generator, or remove it to let the engine invert the photo.", e);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The silo's directions with the job's own γ for its emotion, when it asks for a strength; else null.</summary>
    private EmotionDirections? JobDirections(RestorationOptions options, string? emotion)
    {
        if (emotion is null || options.EmotionStrength <= 0 || models.EmotionDirections is not { } directions)
        {
            return null;
        }

        using var scope = NewDisposeScope();
        var all = cat(Emotions.Names.Select(directions.Direction).ToList(), 0);
        return new EmotionDirections(all, new Dictionary<string, double> { [emotion] = options.EmotionStrength });
    }

    private static EngineCheckpoint Checkpoint(string jobId, GridCheckpoint from)
    {
        var checkpoint = EngineCheckpoint.FromBytes(from.State);
        if (checkpoint.NextIteration != from.Iteration)
        {
            checkpoint.Dispose();
            throw new InvalidDataException(
                $"Job {jobId}: the checkpoint recorded at iteration {from.Iteration} holds the state after iteration {checkpoint.NextIteration}; " +
                "it belongs to another run: restart the job without it.");
        }

        return checkpoint;
    }

    private ImageLimits Limits() => ImageLimits.Default with { MaxPixels = models.Options.MaxImagePixels };

    /// <summary>Each iteration's report as the grid's progress; the identity similarity is read back from the weighted term.</summary>
    private sealed class ProgressAdapter(IProgress<RestorationProgress> target, double identityWeight) : IProgress<IterationReport>
    {
        public void Report(IterationReport value)
        {
            double? similarity = identityWeight > 0 && value.Terms.TryGetValue(LossTerms.Identity, out var term) ? 1 - term / identityWeight : null;
            target.Report(new RestorationProgress(value.Iteration + 1, value.Iterations, value.Total, similarity));
        }
    }
}
