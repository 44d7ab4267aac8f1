using System.Collections.Concurrent;
using System.Text;
using Sair.Grains.Ports;

namespace Sair.Testing;

/// <summary>Which silo ran which job, and from which iteration each run started.</summary>
public sealed class EngineRecorder
{
    public ConcurrentQueue<(string JobId, string Silo, int FromIteration)> Runs { get; } = new();

    public ConcurrentQueue<(string JobId, string Silo)> Finishes { get; } = new();

    /// <summary>The references each request carried (id and attached latent, if any).</summary>
    public ConcurrentDictionary<string, IReadOnlyList<ReferenceFace>> References { get; } = new();

    /// <summary>Where in its photo each request was told its face is (null: the engine was to find it).</summary>
    public ConcurrentDictionary<string, FaceLocation?> Faces { get; } = new();

    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _finishesLeft = new(StringComparer.Ordinal);

    /// <summary>
    /// Lets only <paramref name="count"/> more runs on the silo finish; the others, their iterations done, wait until
    /// stopped. A test that stops the silo then knows the runs it saw unfinished are still unfinished.
    /// </summary>
    public void LimitFinishes(string silo, int count)
    {
        lock (_gate)
        {
            _finishesLeft[silo] = count;
        }
    }

    /// <summary>True when a run on the silo may finish now (and counts it against the limit).</summary>
    public bool MayFinish(string silo)
    {
        lock (_gate)
        {
            if (!_finishesLeft.TryGetValue(silo, out var left))
            {
                return true;
            }

            if (left == 0)
            {
                return false;
            }

            _finishesLeft[silo] = left - 1;
            return true;
        }
    }
}

/// <summary>
/// Stands in for the SAIR optimisation: "iterates" with a short delay, checkpoints every K iterations with a state
/// that encodes the job and iteration (so a resume from the wrong checkpoint is caught), and fails on photos whose
/// bytes start with "FAIL".
/// </summary>
public sealed class FakeRestorationEngine(string silo, EngineRecorder recorder, TimeSpan iterationTime) : IRestorationEngine
{
    public async Task<RestorationOutcome> RestoreAsync(
        RestorationRequest request, IProgress<RestorationProgress> progress, CancellationToken cancellationToken)
    {
        if (Encoding.UTF8.GetString(request.InputPng).StartsWith("FAIL", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"fake engine: no face to restore in job {request.JobId}");
        }

        var start = 0;
        if (request.ResumeFrom is { } checkpoint)
        {
            if (!checkpoint.State.AsSpan().SequenceEqual(CheckpointState(request.JobId, checkpoint.Iteration)))
            {
                throw new InvalidOperationException($"job {request.JobId} resumed from a checkpoint that is not its own");
            }

            start = checkpoint.Iteration;
        }

        recorder.Runs.Enqueue((request.JobId, silo, start));
        recorder.References[request.JobId] = request.References;
        recorder.Faces[request.JobId] = request.Face;
        var total = request.Options.Iterations;
        for (var iteration = start + 1; iteration <= total; iteration++)
        {
            await Task.Delay(iterationTime, cancellationToken);
            progress.Report(new RestorationProgress(iteration, total, 1.0 / iteration, null));
            if (iteration % request.Options.CheckpointEvery == 0 && iteration < total)
            {
                await request.PersistCheckpointAsync(
                    new CheckpointBlob(iteration, CheckpointState(request.JobId, iteration)), cancellationToken);
            }
        }

        while (!recorder.MayFinish(silo))
        {
            await Task.Delay(iterationTime, cancellationToken);
        }

        recorder.Finishes.Enqueue((request.JobId, silo));
        // Like the real engine: a first reference without an attached latent is "inverted" and the inversion returned.
        var inverted = request.References is [{ Latent: null } first, ..] ? InversionOf(first.ReferenceId) : null;
        // Like the real engine: a whole photo comes back also as its aligned crop and with the face pasted back.
        var whole = request.Framing == FaceFraming.Unaligned;
        return new RestorationOutcome(ExpectedResult(request.InputPng, request.References.Count, total), total, 1.0 / total, 0.9, inverted,
            whole ? ExpectedCrop(request.InputPng) : null, whole ? ExpectedPhoto(request.InputPng, request.Options.Upscale) : null);
    }

    public static byte[] ExpectedCrop(byte[] input) => [.. Encoding.UTF8.GetBytes("cropped:"), .. input];

    public static byte[] ExpectedPhoto(byte[] input, double upscale) =>
        [.. Encoding.UTF8.GetBytes(FormattableString.Invariant($"pasted at {upscale}x:")), .. input];

    public static byte[] ExpectedResult(byte[] input, int references, int iterations) =>
        [.. Encoding.UTF8.GetBytes($"restored({references} refs, {iterations} its):"), .. input];

    public static byte[] InversionOf(string referenceId) => Encoding.UTF8.GetBytes($"w_z:{referenceId}");

    private static byte[] CheckpointState(string jobId, int iteration) => Encoding.UTF8.GetBytes($"{jobId}@{iteration}");
}

/// <summary>"Composes" a group photo as text naming the photo and the faces pasted into it, in order.</summary>
public sealed class FakePhotoComposer : IPhotoComposer
{
    public Task<byte[]> ComposeAsync(byte[] photoPng, IReadOnlyList<RestoredFace> faces, double upscale, CancellationToken cancellationToken) =>
        Task.FromResult(Encoding.UTF8.GetBytes(
            $"composed:{Encoding.UTF8.GetString(photoPng)}:{string.Join(",", faces.Select(f => $"{f.Location.Index}={Encoding.UTF8.GetString(f.RestoredFacePng)}"))}"));
}
