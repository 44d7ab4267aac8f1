using System.Globalization;
using System.Text.Json;
using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// Everything needed to continue a run exactly where it stopped: w, Adam's moments and step count, the next iteration,
/// the noise RNG's state, the current face mask and the history so far (whose last report holds the recoveries from
/// non-finite steps, which set the learning rate). Resuming from it gives the same result as an
/// uninterrupted run. Serialises to safetensors bytes (tensors + metadata) so a grid can persist it.
/// </summary>
public sealed class RestorationCheckpoint : IDisposable
{
    private const string Format = "sair-restoration-checkpoint";
    private const string Version = "1";

    internal RestorationCheckpoint(int nextIteration, Tensor latent, Tensor adamM, Tensor adamV, long adamStep, Tensor? rngState,
        Tensor? mask, IReadOnlyList<IterationReport> history, string optionsFingerprint)
    {
        NextIteration = nextIteration;
        Latent = latent.DetachFromDisposeScope();
        AdamM = adamM.DetachFromDisposeScope();
        AdamV = adamV.DetachFromDisposeScope();
        AdamStep = adamStep;
        RngState = rngState?.DetachFromDisposeScope();
        Mask = mask?.DetachFromDisposeScope();
        History = history;
        OptionsFingerprint = optionsFingerprint;
    }

    /// <summary>Iterations completed; the resumed run starts at this index.</summary>
    public int NextIteration { get; }

    /// <summary>w after <see cref="NextIteration"/> steps (CPU, float32).</summary>
    public Tensor Latent { get; }

    internal Tensor AdamM { get; }

    internal Tensor AdamV { get; }

    internal long AdamStep { get; }

    internal Tensor? RngState { get; }

    internal Tensor? Mask { get; }

    public IReadOnlyList<IterationReport> History { get; }

    internal string OptionsFingerprint { get; }

    /// <summary>The checkpoint as safetensors bytes.</summary>
    public byte[] ToBytes()
    {
        var tensors = new List<KeyValuePair<string, Tensor>> { new("latent", Latent), new("adam_m", AdamM), new("adam_v", AdamV) };
        if (RngState is not null)
        {
            tensors.Add(new("rng_state", RngState));
        }
        if (Mask is not null)
        {
            tensors.Add(new("mask", Mask));
        }
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["version"] = Version,
            ["next_iteration"] = NextIteration.ToString(CultureInfo.InvariantCulture),
            ["adam_step"] = AdamStep.ToString(CultureInfo.InvariantCulture),
            ["options"] = OptionsFingerprint,
            ["history"] = JsonSerializer.Serialize(History.Select(r => new HistoryEntry(
                r.Iteration, r.Iterations, r.Terms.ToDictionary(), r.Total, r.LearningRate, r.Elapsed.Ticks, r.Recoveries))),
        };
        return Safetensors.Serialize(tensors, metadata);
    }

    /// <summary>Reads bytes made by <see cref="ToBytes"/>; throws <see cref="CheckpointException"/> for anything else.</summary>
    public static RestorationCheckpoint FromBytes(byte[] bytes)
    {
        const string Source = "restoration checkpoint bytes";
        var (tensors, metadata) = Safetensors.Deserialize(bytes, Source);
        var byName = tensors.ToDictionary(t => t.Key, t => t.Value);
        try
        {
            if (!metadata.TryGetValue("format", out var format) || format != Format || metadata.GetValueOrDefault("version") != Version)
            {
                throw new CheckpointException(Source, $"not a version-{Version} SAIR restoration checkpoint.");
            }
            foreach (var required in new[] { "latent", "adam_m", "adam_v" })
            {
                if (!byName.ContainsKey(required))
                {
                    throw new CheckpointException(Source, $"the tensor '{required}' is missing.");
                }
            }
            var history = JsonSerializer.Deserialize<List<HistoryEntry>>(metadata["history"])!
                .Select(h => new IterationReport(h.Iteration, h.Iterations, h.Terms, h.Total, h.LearningRate, TimeSpan.FromTicks(h.ElapsedTicks), h.Recoveries))
                .ToList();
            return new RestorationCheckpoint(
                int.Parse(metadata["next_iteration"], CultureInfo.InvariantCulture),
                byName["latent"], byName["adam_m"], byName["adam_v"],
                long.Parse(metadata["adam_step"], CultureInfo.InvariantCulture),
                byName.GetValueOrDefault("rng_state"), byName.GetValueOrDefault("mask"), history, metadata["options"]);
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or JsonException or CheckpointException)
        {
            foreach (var t in byName.Values)
            {
                t.Dispose();
            }
            throw e as CheckpointException ?? new CheckpointException(Source, $"malformed checkpoint metadata: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        Latent.Dispose();
        AdamM.Dispose();
        AdamV.Dispose();
        RngState?.Dispose();
        Mask?.Dispose();
    }

    private sealed record HistoryEntry(
        int Iteration, int Iterations, Dictionary<string, double> Terms, double Total, double LearningRate, long ElapsedTicks, int Recoveries = 0);
}
