using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Sair.Grains.Ports;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Sair.Testing;

/// <summary>Who is in which picture, by decoded pixels (the client re-encodes inputs, so bytes change but pixels do not).</summary>
public sealed class KnownFaces
{
    private readonly ConcurrentDictionary<string, string> _people = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, string?[]> _groups = new(StringComparer.Ordinal);

    public void Add(string imageFile, string person) => _people[PixelHash(File.ReadAllBytes(imageFile))] = person;

    /// <summary>Marks an image as a group photo of these people, left to right (null: a stranger).</summary>
    public void AddGroup(string imageFile, params string?[] people) => _groups[PixelHash(File.ReadAllBytes(imageFile))] = people;

    public string?[]? GroupIn(byte[] image) => _groups.GetValueOrDefault(PixelHash(image));

    public string? PersonIn(byte[] image) => _people.GetValueOrDefault(PixelHash(image));

    public static string PixelHash(byte[] image)
    {
        using var decoded = Image.Load<Rgb24>(image);
        var pixels = new byte[decoded.Width * decoded.Height * 3];
        decoded.CopyPixelDataTo(pixels);
        return Convert.ToHexString(SHA256.HashData(pixels));
    }

    /// <summary>A flat image stands for "no face"; anything with detail holds one.</summary>
    public static bool IsFlat(byte[] image)
    {
        using var decoded = Image.Load<Rgb24>(image);
        var pixels = new byte[decoded.Width * decoded.Height * 3];
        decoded.CopyPixelDataTo(pixels);
        return pixels.Max() - pixels.Min() < 8;
    }
}

/// <summary>
/// Embeds a known person's photos near that person's fixed vector and unknown photos at their own random-looking
/// vector; a flat image holds no face. Aligned embeddings are recorded with the person and framing they were asked for.
/// </summary>
public sealed class ImageFaceAnalyzer(KnownFaces known) : IFaceAnalyzer
{
    public string IdentityNet => ImageRestorationEngine.IdentityNet;

    public const int Dimensions = 16;

    /// <summary>Every aligned embedding asked for: who the photo shows (its pixel hash when unknown) and the framing.</summary>
    public ConcurrentQueue<(string Person, FaceFraming Framing)> AlignedCalls { get; } = new();

    public async Task<float[]> EmbedAlignedAsync(byte[] photo, FaceFraming framing, CancellationToken cancellationToken)
    {
        AlignedCalls.Enqueue((known.PersonIn(photo) ?? KnownFaces.PixelHash(photo), framing));
        return (await Analyze(photo)).Embedding;
    }

    /// <summary>Every face detection asked for: who the photo shows (its pixel hash when unknown) and which face to pick.</summary>
    public ConcurrentQueue<(string Person, FaceChoice Choice)> DetectCalls { get; } = new();

    public Task<FaceAnalysis> AnalyzeAsync(byte[] photo, FaceChoice choice, CancellationToken cancellationToken)
    {
        DetectCalls.Enqueue((known.PersonIn(photo) ?? KnownFaces.PixelHash(photo), choice));
        return Analyze(photo);
    }

    /// <summary>Every face search asked for: who the photo shows (its pixel hash when unknown).</summary>
    public ConcurrentQueue<string> FindCalls { get; } = new();

    /// <summary>A flat photo holds no face, a group photo its people left to right, any other photo one face.</summary>
    public Task<ImmutableArray<PhotoFace>> FindFacesAsync(byte[] photo, CancellationToken cancellationToken)
    {
        var hash = KnownFaces.PixelHash(photo);
        FindCalls.Enqueue(known.PersonIn(photo) ?? hash);
        if (KnownFaces.IsFlat(photo))
        {
            return Task.FromResult(ImmutableArray<PhotoFace>.Empty);
        }

        string?[] people = known.GroupIn(photo) ?? [known.PersonIn(photo)];
        return Task.FromResult(people.Select((person, index) =>
            new PhotoFace(Location(index), Vector(person ?? $"{hash}/{index}"))).ToImmutableArray());
    }

    /// <summary>Where the fake puts face <paramref name="index"/> of a photo: 20 px boxes side by side.</summary>
    public static FaceLocation Location(int index) =>
        new(index, 2 + 24 * index, 2, 20, 20, [.. Enumerable.Range(0, FaceLocation.LandmarkValues).Select(i => (float)(24 * index + i % 20))]);

    private Task<FaceAnalysis> Analyze(byte[] photo)
    {
        if (KnownFaces.IsFlat(photo))
        {
            throw new FaceNotFoundException("fake analyzer: the photo is flat, no face in it");
        }

        var embedding = Vector(known.PersonIn(photo) ?? KnownFaces.PixelHash(photo));
        return Task.FromResult(new FaceAnalysis(embedding, photo));
    }

    public static float[] Vector(string seed) =>
        [.. SHA256.HashData(Encoding.UTF8.GetBytes(seed)).Take(Dimensions).Select(b => (b - 127.5f) / 127.5f)];
}

/// <summary>
/// "Restores" by returning the input at twice its size with inverted colours (so a test can tell input from result),
/// reporting a falling loss each iteration; a flat photo fails as a real engine does on a photo without a face. A
/// whole (unaligned) photo also comes back as its "crop" (the input mirrored) and its "pasted-back" photo (the input
/// at the job's upscale, inverted), as the real engine returns them.
/// </summary>
public sealed class ImageRestorationEngine(TimeSpan iterationTime) : IRestorationEngine
{
    /// <summary>The name the fake gives its identity net.</summary>
    public const string IdentityNet = "fake-identity";

    public async Task<RestorationOutcome> RestoreAsync(
        RestorationRequest request, IProgress<RestorationProgress> progress, CancellationToken cancellationToken)
    {
        if (KnownFaces.IsFlat(request.InputPng))
        {
            throw new InvalidDataException("no face found in the photo");
        }

        var total = request.Options.Iterations;
        for (var iteration = (request.ResumeFrom?.Iteration ?? 0) + 1; iteration <= total; iteration++)
        {
            await Task.Delay(iterationTime, cancellationToken);
            progress.Report(new RestorationProgress(iteration, total, 1.0 / iteration, 0.8));
        }

        var whole = request.Framing == FaceFraming.Unaligned;
        var identity = request.References.Count > 0;
        return new RestorationOutcome(Expected(request.InputPng), total, 1.0 / total, identity ? 0.8 : null, null,
            whole ? ExpectedCrop(request.InputPng) : null, whole ? ExpectedPhoto(request.InputPng, request.Options.Upscale) : null,
            IdentityNet: identity ? IdentityNet : null, LossHistory: [.. Enumerable.Range(1, total).Select(i => 1f / i)]);
    }

    public static byte[] Expected(byte[] inputPng) => Inverted(inputPng, 2);

    /// <summary>What <see cref="ImagePhotoComposer"/> makes of a group photo: the photo at the scale, inverted twice over (so, as it was).</summary>
    public static byte[] ExpectedComposed(byte[] inputPng, double upscale) => Inverted(Inverted(inputPng, upscale), 1);

    public static byte[] ExpectedPhoto(byte[] inputPng, double upscale) => Inverted(inputPng, upscale);

    public static byte[] ExpectedCrop(byte[] inputPng)
    {
        using var image = Image.Load<Rgb24>(inputPng);
        image.Mutate(x => x.Flip(FlipMode.Horizontal));
        return Png(image);
    }

    /// <summary>The image at <paramref name="scale"/> times its size (nearest neighbour), colours inverted.</summary>
    private static byte[] Inverted(byte[] inputPng, double scale)
    {
        using var image = Image.Load<Rgb24>(inputPng);
        using var result = new Image<Rgb24>((int)Math.Round(image.Width * scale), (int)Math.Round(image.Height * scale));
        for (var y = 0; y < result.Height; y++)
        {
            for (var x = 0; x < result.Width; x++)
            {
                var p = image[Math.Min(image.Width - 1, (int)(x / scale)), Math.Min(image.Height - 1, (int)(y / scale))];
                result[x, y] = new Rgb24((byte)(255 - p.R), (byte)(255 - p.G), (byte)(255 - p.B));
            }
        }

        return Png(result);
    }

    private static byte[] Png(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder { ColorType = PngColorType.Rgb });
        return stream.ToArray();
    }
}

/// <summary>Puts a group photo together as <see cref="ImageRestorationEngine.ExpectedComposed"/>, recording how many faces each call pasted.</summary>
public sealed class ImagePhotoComposer : IPhotoComposer
{
    public ConcurrentQueue<int> Calls { get; } = new();

    public Task<byte[]> ComposeAsync(byte[] photoPng, IReadOnlyList<RestoredFace> faces, double upscale, CancellationToken cancellationToken)
    {
        Calls.Enqueue(faces.Count);
        return Task.FromResult(ImageRestorationEngine.ExpectedComposed(photoPng, upscale));
    }
}
