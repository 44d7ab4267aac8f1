using System.Text.Json;
using System.Text.Json.Serialization;
using Sair.Client.Output;
using Sair.Grains.Albums;
using Sair.Grains.Engine;
using Sair.Grains.Jobs;
using SixLabors.ImageSharp;

namespace Sair.Client.Restoration;

/// <summary>One input's line in the summary and in report.json.</summary>
/// <param name="Status">restored, failed, rejected, cancelled or unfinished.</param>
/// <param name="Similarity">Identity similarity of the result to the references when the engine measured it.</param>
/// <param name="Outputs">Written files, relative to the output folder, by kind (cropped_face, restored_face, cmp, restored_img).</param>
public sealed record PhotoOutcome(
    string Input,
    string? Name,
    string Status,
    string? Reason,
    string? Person,
    double? MatchSimilarity,
    double? Similarity,
    double? Seconds,
    string? JobId,
    string? Note,
    IReadOnlyDictionary<string, string>? Outputs)
{
    public bool Restored => Status == "restored";
}

/// <summary>report.json: what was asked, what came out, and why anything did not.</summary>
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
    IReadOnlyList<PhotoOutcome> Photos);

/// <summary>
/// Writes an album's results in the GFPGAN/CodeFormer layout: <c>cropped_faces/</c> (the aligned face as it went into
/// the engine), <c>restored_faces/</c>, <c>cmp/</c> (before | after), <c>restored_imgs/</c> (the whole photo at the input
/// size × upscale with the restored face pasted back by the engine; for aligned inputs, the restored face itself) and
/// <c>report.json</c>, which is written last so its presence means the folder is complete.
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
        // Input order (inputs are listed by name), whether a photo was submitted or refused.
        foreach (var photo in manifest.Photos.OrderBy(p => p.Source, StringComparer.Ordinal))
        {
            if (photo.Index < 0)
            {
                outcomes.Add(new PhotoOutcome(photo.Source, photo.Name, "rejected", photo.Error, null, null, null, null, null, photo.Note, null));
                continue;
            }

            var result = byIndex.GetValueOrDefault(photo.Index);
            double? seconds = durations.TryGetValue(photo.Index, out var took) ? Math.Round(took.TotalSeconds, 1) : null;
            var outcome = new PhotoOutcome(photo.Source, photo.Name, StatusOf(result?.State), result?.Error, photo.Person,
                photo.MatchSimilarity, result?.IdentitySimilarity, seconds, result?.JobId, JoinNotes(photo.Note, result?.Note), null);
            if (result is { State: JobState.Completed, ResultPath: not null })
            {
                try
                {
                    outcome = outcome with { Outputs = await WritePhotoAsync(images, photo, result, output, layout, cancellationToken) };
                }
                catch (Exception exception) when (exception is FileNotFoundException or UnknownImageFormatException or InvalidImageContentException)
                {
                    outcome = outcome with { Status = "failed", Reason = $"the grid's result could not be read: {exception.Message}" };
                }
            }

            outcomes.Add(outcome);
        }

        var restored = outcomes.Count(o => o.Restored);
        var report = new RunReport(manifest.AlbumId, manifest.References, manifest.Options, layout.Upscale, manifest.SubmittedAt,
            DateTimeOffset.UtcNow, restored, outcomes.Count, ExitCodes.FromCounts(restored, outcomes.Count), outcomes);
        await output.WriteAsync("report.json", JsonSerializer.SerializeToUtf8Bytes(report, Json), cancellationToken);
        return report;
    }

    private static async Task<IReadOnlyDictionary<string, string>> WritePhotoAsync(
        IImageStore images, ManifestPhoto photo, PhotoResult result, OutputFolder output, OutputLayout layout, CancellationToken cancellationToken)
    {
        var restored = await images.GetAsync(result.ResultPath!, cancellationToken);
        // An aligned input is its own crop and has no photo around it: its restored face is the restored image.
        var cropped = await images.GetAsync(result.CroppedFacePath ?? photo.StorePath!, cancellationToken);
        var pasted = result.RestoredPhotoPath is { } photoPath
            ? FaceImages.AtScale(await images.GetAsync(photoPath, cancellationToken), photo.Width, photo.Height, layout.Upscale)
            : restored;
        var imageExtension = layout.ImageExtension(photo.Source);
        if (imageExtension == "jpg")
        {
            pasted = FaceImages.Jpeg(pasted, OutputLayout.JpegQuality);
        }
        // Decode before writing anything, so a bad result leaves no file of this photo behind.
        var comparison = FaceImages.SideBySide(cropped, restored);
        var name = photo.Name!;
        return new Dictionary<string, string>
        {
            ["cropped_face"] = await output.WriteAsync($"cropped_faces/{name}_00.png", cropped, cancellationToken),
            ["restored_face"] = await output.WriteAsync($"restored_faces/{name}_00{layout.Tail}.png", restored, cancellationToken),
            ["cmp"] = await output.WriteAsync($"cmp/{name}_00.png", comparison, cancellationToken),
            ["restored_img"] = await output.WriteAsync($"restored_imgs/{name}{layout.Tail}.{imageExtension}", pasted, cancellationToken),
        };
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
            _ => $"{client}; {grid}",
        };
}
