using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sair.Client.Output;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using SixLabors.ImageSharp;

namespace Sair.Client.Restoration;

/// <summary>One face's line in the summary and in report.json (an input without a face to restore is one line too).</summary>
/// <param name="Input">The input file.</param>
/// <param name="Name">The input's safe output name.</param>
/// <param name="Face">The face's place in its photo (left to right from 0, the <c>_00</c> of its files); null for a line about the whole input.</param>
/// <param name="Box">Where the face was detected, in input pixels; null for an aligned input.</param>
/// <param name="Status">restored, failed, rejected, skipped, cancelled or unfinished.</param>
/// <param name="Person">Who the face was restored towards; null when restored without identity.</param>
/// <param name="MatchSimilarity">Cosine of the input's face to the person's closest pool reference, by <paramref name="MatchNet"/>.</param>
/// <param name="Similarity">Cosine of the result to the reference, by <paramref name="SimilarityNet"/>: the loss's own identity net.</param>
/// <param name="Outputs">Written files, relative to the output folder, by kind (cropped_face, restored_face, cmp, restored_img).</param>
/// <param name="Loss">The objective along the run: every iteration, or at most 200 evenly spaced ones.</param>
public sealed record PhotoOutcome(
    string Input,
    string? Name,
    int? Face,
    FaceBox? Box,
    string Status,
    string? Reason,
    string? Person,
    double? MatchSimilarity,
    string? MatchNet,
    double? Similarity,
    string? SimilarityNet,
    double? Seconds,
    string? JobId,
    string? Note,
    IReadOnlyDictionary<string, string>? Outputs,
    IReadOnlyList<float>? Loss = null)
{
    public bool Restored => Status == "restored";

    /// <summary>The face's output name, GFPGAN's <c>&lt;name&gt;_&lt;idx:02d&gt;</c>.</summary>
    public string Label => Face is { } face && Name is not null ? $"{Name}_{face:D2}" : Name ?? Path.GetFileName(Input);
}

/// <summary>report.json: what was asked, what came out (one entry per face), and why anything did not.</summary>
public sealed record RunReport(
    string Album,
    string References,
    RestorationOptions Options,
    double Upscale,
    DateTimeOffset SubmittedAt,
    DateTimeOffset WrittenAt,
    int Restored,
    int Total,
    int ExitCode,
    IReadOnlyList<PhotoOutcome> Faces);

/// <summary>
/// Writes an album's results in the GFPGAN/CodeFormer layout: <c>cropped_faces/</c> (each aligned face as it went into
/// the engine), <c>restored_faces/</c>, <c>cmp/</c> (input | restored | reference), <c>restored_imgs/</c> (the whole photo
/// at the input size × upscale with every restored face pasted back by the grid; for aligned inputs, the restored face
/// itself), <c>index.html</c> (the gallery) and <c>report.json</c>, which is written last so its presence means the
/// folder is complete. Faces are named <c>&lt;name&gt;_&lt;idx:02d&gt;</c>, left to right.
/// </summary>
public static class ResultWriter
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Enum options by name ("face": "center"); numbers written by older clients still read.
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static async Task<RunReport> WriteAsync(
        IImageStore images,
        AlbumManifest manifest,
        IReadOnlyList<PhotoResult> results,
        IReadOnlyDictionary<int, TimeSpan> durations,
        OutputFolder output,
        OutputLayout layout,
        CancellationToken cancellationToken)
    {
        var byIndex = results.ToDictionary(r => r.Index);
        var outcomes = new List<PhotoOutcome>();
        var references = new Dictionary<string, string?>(StringComparer.Ordinal);
        var gallery = new List<GalleryFace>();
        // Input order (inputs are listed by name), whether a photo was submitted or refused.
        foreach (var photo in manifest.Photos.OrderBy(p => p.Source, StringComparer.Ordinal))
        {
            var faces = photo.AllFaces;
            if (photo.Index < 0 && faces.All(f => f.Job < 0))
            {
                if (faces.Count == 0)
                {
                    outcomes.Add(new PhotoOutcome(photo.Source, photo.Name, null, null, "rejected", photo.Error, null, null, null, null, null, null, null, photo.Note, null));
                }
            }

            string? restoredImage = null;
            foreach (var face in faces.OrderBy(f => f.Face))
            {
                if (face.Job < 0)
                {
                    outcomes.Add(new PhotoOutcome(photo.Source, photo.Name, face.Face, face.Box, "skipped", face.Skipped, null, face.MatchSimilarity,
                        face.MatchNet, null, null, null, null, JoinNotes(photo.Note, face.Note), null));
                    continue;
                }

                var result = byIndex.GetValueOrDefault(face.Job);
                double? seconds = durations.TryGetValue(face.Job, out var took) ? Math.Round(took.TotalSeconds, 1) : null;
                var identity = face.Person is not null;
                var outcome = new PhotoOutcome(photo.Source, photo.Name, face.Face, face.Box, StatusOf(result?.State), result?.Error, face.Person,
                    face.MatchSimilarity, face.MatchNet, identity ? result?.IdentitySimilarity : null, identity ? result?.IdentityNet : null, seconds,
                    result?.JobId, JoinNotes(JoinNotes(photo.Note, face.Note), result?.Note), null, result?.LossHistory);
                if (result is { State: JobState.Completed, ResultPath: not null })
                {
                    try
                    {
                        var outputs = await WriteFaceAsync(images, photo, face, result, references, restoredImage, output, layout, cancellationToken);
                        restoredImage = outputs.GetValueOrDefault("restored_img");
                        outcome = outcome with { Outputs = outputs };
                    }
                    catch (Exception exception) when (exception is FileNotFoundException or UnknownImageFormatException or InvalidImageContentException)
                    {
                        outcome = outcome with { Status = "failed", Reason = $"the grid's result could not be read: {exception.Message}" };
                    }
                }

                outcomes.Add(outcome);
            }
        }

        var restored = outcomes.Count(o => o.Restored);
        var report = new RunReport(manifest.AlbumId, manifest.References, manifest.Options, layout.Upscale, manifest.SubmittedAt,
            DateTimeOffset.UtcNow, restored, outcomes.Count, ExitCodes.FromCounts(restored, outcomes.Count), outcomes);
        await output.WriteAsync(Gallery.FileName, Encoding.UTF8.GetBytes(Gallery.Render(Summary(report, durations), [.. outcomes.Select(ToGallery)])), cancellationToken);
        await output.WriteAsync("report.json", JsonSerializer.SerializeToUtf8Bytes(report, Json), cancellationToken);
        return report;
    }

    private static GallerySummary Summary(RunReport report, IReadOnlyDictionary<int, TimeSpan> durations) => new(
        report.Album, report.References, report.Restored, report.Total, report.Options.Preset, report.Options.Iterations,
        durations.Count == 0 ? null : Math.Round((report.WrittenAt - report.SubmittedAt).TotalSeconds, 1), report.WrittenAt);

    private static GalleryFace ToGallery(PhotoOutcome o) => new(
        Path.GetFileName(o.Input), o.Face ?? 0, o.Person, o.Similarity, o.SimilarityNet is { } net ? $"{net}, the loss's own identity net" : null,
        o.Seconds, o.Status, o.Reason ?? o.Note, o.Outputs?.GetValueOrDefault("cropped_face"), o.Outputs?.GetValueOrDefault("restored_face"),
        o.Outputs?.GetValueOrDefault("reference"), o.Outputs?.GetValueOrDefault("restored_img"), o.Loss?.Select(v => (double)v).ToList());

    private static async Task<Dictionary<string, string>> WriteFaceAsync(
        IImageStore images, ManifestPhoto photo, ManifestFace face, PhotoResult result, Dictionary<string, string?> references,
        string? restoredImage, OutputFolder output, OutputLayout layout, CancellationToken cancellationToken)
    {
        var restored = await images.GetAsync(result.ResultPath!, cancellationToken);
        // An aligned input is its own crop and has no photo around it: its restored face is the restored image.
        var cropped = await images.GetAsync(result.CroppedFacePath ?? photo.StorePath!, cancellationToken);
        byte[]? reference = null;
        if (face.ReferencePath is { } referencePath)
        {
            reference = await images.GetAsync(referencePath, cancellationToken);
        }

        // A group photo's faces share its one restored image: the first restored face writes it, the others point to it.
        byte[]? pasted = null;
        var imageExtension = layout.ImageExtension(photo.Source);
        if (restoredImage is null)
        {
            pasted = result.RestoredPhotoPath is { } photoPath
                ? FaceImages.AtScale(await images.GetAsync(photoPath, cancellationToken), photo.Width, photo.Height, layout.Upscale)
                : restored;
            if (imageExtension == "jpg")
            {
                pasted = FaceImages.Jpeg(pasted, OutputLayout.JpegQuality);
            }
        }

        // Decode before writing anything, so a bad result leaves no file of this face behind.
        var comparison = FaceImages.Comparison(cropped, restored, reference);
        var name = $"{photo.Name!}_{face.Face:D2}";
        var outputs = new Dictionary<string, string>
        {
            ["cropped_face"] = await output.WriteAsync($"cropped_faces/{name}.png", cropped, cancellationToken),
            ["restored_face"] = await output.WriteAsync($"restored_faces/{name}{layout.Tail}.png", restored, cancellationToken),
            ["cmp"] = await output.WriteAsync($"cmp/{name}.png", comparison, cancellationToken),
        };
        if (reference is not null)
        {
            // One copy per reference, shared by every face restored towards it.
            if (!references.TryGetValue(face.ReferencePath!, out var written))
            {
                written = await output.WriteAsync($"references/{ReferenceFileName(face)}.png", reference, cancellationToken);
                references[face.ReferencePath!] = written;
            }

            outputs["reference"] = written!;
        }

        outputs["restored_img"] = pasted is null
            ? restoredImage!
            : await output.WriteAsync($"restored_imgs/{photo.Name}{layout.Tail}.{imageExtension}", pasted, cancellationToken);

        return outputs;
    }

    /// <summary>The person's name made safe for a file name (the reference shown in cmp/ and the gallery).</summary>
    private static string ReferenceFileName(ManifestFace face)
    {
        var name = Photos.SafeNames.Stem((face.Person ?? "reference") + ".png") ?? "reference";
        var id = face.ReferencePath!.Split('/') is { Length: >= 2 } parts ? parts[^2] : "";
        return id.Length >= 8 ? $"{name}-{id[..8]}" : name;
    }

    private static string StatusOf(JobState? state) => state switch
    {
        JobState.Completed => "restored",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        _ => "unfinished",
    };

    /// <summary>The client's own note on a photo (e.g. converted from grey) and the grid's (e.g. no pool match), together.</summary>
    private static string? JoinNotes(string? client, string? grid) =>
        (client, grid) switch
        {
            (null, _) => grid,
            (_, null) => client,
            // The client already said why the face has no reference (--no-identity, or no match above the threshold).
            _ when grid == ReferenceSelection.NoReferenceNote && client.Contains("without the identity term", StringComparison.Ordinal) => client,
            _ => $"{client}; {grid}",
        };
}
