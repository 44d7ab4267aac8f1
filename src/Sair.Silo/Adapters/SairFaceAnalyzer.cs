using System.Collections.Immutable;
using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Sair.Engine.Imaging;
using Sair.Engine.Runtime;
using Sair.Grains.Ports;
using static TorchSharp.torch;

namespace Sair.Silo.Adapters;

/// <summary>
/// The pools' <see cref="IFaceAnalyzer"/>: detects the face of a photo that <see cref="FaceSelection"/> picks, aligns it to the FFHQ template
/// (the framing of the generator's faces) and embeds it with the silo's identity network; an already aligned face is
/// embedded whole, without detection.
/// </summary>
public sealed class SairFaceAnalyzer(EngineModels models) : IFaceAnalyzer
{
    public string IdentityNet => models.Identity.Name;

    public Task<FaceAnalysis> AnalyzeAsync(byte[] photo, FaceChoice choice, CancellationToken cancellationToken) =>
        NativeErrors.ForUserAsync(() => AnalyzeOnWorkerAsync(photo, choice, cancellationToken));

    public Task<float[]> EmbedAlignedAsync(byte[] photo, FaceFraming framing, CancellationToken cancellationToken) =>
        NativeErrors.ForUserAsync(() => EmbedAlignedOnWorkerAsync(photo, framing, cancellationToken));

    public Task<ImmutableArray<PhotoFace>> FindFacesAsync(byte[] photo, CancellationToken cancellationToken) =>
        NativeErrors.ForUserAsync(async () =>
        {
            ArgumentNullException.ThrowIfNull(photo);
            await models.Readiness.WhenReadyAsync(cancellationToken);
            return await Task.Run(() => FindFaces(photo), cancellationToken);
        });

    /// <summary>Every face, left to right by box centre, with its place and its embedding aligned as enrolment aligns.</summary>
    private ImmutableArray<PhotoFace> FindFaces(byte[] photo)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var decoded = ImageFiles.Decode(photo, "photo to look for faces in", ImageLimits.Default with { MaxPixels = models.Options.MaxImagePixels });
        var pixels = ImageTensors.ToTensor(decoded);
        var faces = models.Detector.Detect(pixels);
        try
        {
            return [.. faces.OrderBy(f => f.Box.CentreX).ThenBy(f => f.Box.CentreY).Select((face, index) =>
            {
                using var aligned = FaceAligner.Align(pixels, face.Landmarks, models.Options.AlignedFaceSize, models.Template);
                var embedding = models.Identity.Embed(aligned.Face.to(models.Device)).cpu().flatten().data<float>().ToArray();
                var landmarks = face.Landmarks.cpu().flatten().data<float>().ToArray();
                return new PhotoFace(new FaceLocation(index, face.Box.X, face.Box.Y, face.Box.Width, face.Box.Height, landmarks), embedding, models.Identity.Name);
            })];
        }
        finally
        {
            foreach (var face in faces)
            {
                face.Dispose();
            }
        }
    }

    private async Task<FaceAnalysis> AnalyzeOnWorkerAsync(byte[] photo, FaceChoice choice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(photo);
        await models.Readiness.WhenReadyAsync(cancellationToken);
        // Detection and embedding take tens of milliseconds of CPU: never inside the calling grain's turn.
        return await Task.Run(() => Analyze(photo, choice), cancellationToken);
    }

    private async Task<float[]> EmbedAlignedOnWorkerAsync(byte[] photo, FaceFraming framing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(photo);
        if (framing is not (FaceFraming.Ffhq or FaceFraming.DlibChip))
        {
            throw new ArgumentException(
                $"EmbedAlignedAsync takes an aligned face (Ffhq or DlibChip), not {framing}; analyse an unaligned photo with AnalyzeAsync.", nameof(framing));
        }

        await models.Readiness.WhenReadyAsync(cancellationToken);
        return await Task.Run(() => EmbedAligned(photo, framing), cancellationToken);
    }

    /// <summary>
    /// Puts the aligned face where enrolment's embedding looks. An FFHQ-aligned face is resized to the pools' aligned
    /// size and embedded exactly as an enrolled face is. A dlib chip is what <see cref="FaceCrop.DlibChipInFfhq"/> cuts
    /// out of an enrolled face, so the chip goes whole to the same net (<see cref="EngineModels.ChipIdentity"/>).
    /// </summary>
    private float[] EmbedAligned(byte[] photo, FaceFraming framing)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var decoded = ImageFiles.Decode(photo, "aligned face to embed", ImageLimits.Default with { MaxPixels = models.Options.MaxImagePixels });
        if (decoded.Width != decoded.Height)
        {
            throw new FaceNotFoundException(
                $"The photo is {decoded.Width}×{decoded.Height} but was given as an aligned face ({framing}), which is square: " +
                "crop and align it, or submit it as an ordinary photo so the face is detected.");
        }

        var pixels = ImageTensors.ToTensor(decoded);
        Tensor embedding;
        if (framing == FaceFraming.DlibChip)
        {
            var chip = models.ChipIdentity ?? throw new InvalidOperationException(
                $"The identity net {models.Identity.Name} cannot embed a dlib face chip: its crop needs an FFHQ-aligned face. " +
                "Submit FFHQ-aligned faces, or run the grid with Sair:Engine:IdentityNet faceapi or faceres (trained on dlib chips).");
            embedding = chip.Embed(pixels.to(models.Device));
        }
        else
        {
            var size = models.Options.AlignedFaceSize;
            var aligned = decoded.Width == size
                ? pixels
                : nn.functional.interpolate(pixels, size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false,
                    antialias: decoded.Width > size);
            embedding = models.Identity.Embed(aligned.to(models.Device));
        }

        return embedding.cpu().flatten().data<float>().ToArray();
    }

    private FaceAnalysis Analyze(byte[] photo, FaceChoice choice)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var decoded = ImageFiles.Decode(photo, "photo to analyse", ImageLimits.Default with { MaxPixels = models.Options.MaxImagePixels });
        var pixels = ImageTensors.ToTensor(decoded);
        var faces = models.Detector.Detect(pixels);
        try
        {
            if (faces.Count == 0)
            {
                throw new FaceNotFoundException(
                    $"No face found in the {decoded.Width}×{decoded.Height} photo: use a photo showing the face from the front, " +
                    "at least about 40 pixels wide, with some background around it.");
            }

            var face = FaceSelection.Pick(faces, choice, decoded.Width, decoded.Height);
            using var aligned = FaceAligner.Align(pixels, face.Landmarks, models.Options.AlignedFaceSize, models.Template);
            var embedding = models.Identity.Embed(aligned.Face.to(models.Device)).cpu().flatten().data<float>().ToArray();
            using var image = ImageTensors.ToImage(aligned.Face);
            return new FaceAnalysis(embedding, ImageFiles.Encode(image, "png"));
        }
        finally
        {
            foreach (var face in faces)
            {
                face.Dispose();
            }
        }
    }
}
