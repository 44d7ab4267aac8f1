using Sair.Engine.FaceNets.Identity;
using Sair.Engine.IO;
using Sair.Engine.Objective;
using Sair.Engine.StyleGan;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// How the generator is tuned to the reference before a restoration (pivotal tuning, Roich et al. 2021, "Pivotal
/// Tuning for Latent-based Editing of Real Images"): with the reference's latent w_z held fixed as the pivot, the
/// synthesis weights take <see cref="Steps"/> Adam steps towards G(w_z) = Z, so that a prior which cannot draw this
/// person can draw them near w_z. 0 steps (the paper's and the official presets) leaves the generator as it is.
/// </summary>
public sealed record PivotalTuningOptions
{
    /// <summary>Adam steps on the synthesis weights; 0 turns tuning off.</summary>
    public int Steps { get; init; }

    /// <summary>Adam learning rate on the (equalised) synthesis weights; the default is the one the quality benchmark chose (docs/quality.md).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Weight of 1 − cos(T(G(w_z)), T(Z)) beside the pixel MSE, when an identity network is available.</summary>
    public double IdentityWeight { get; init; }

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Steps, nameof(Steps));
        if (!(LearningRate > 0) || !(IdentityWeight >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), "Pivotal tuning needs LearningRate > 0 and IdentityWeight ≥ 0.");
        }
    }

    internal string Fingerprint() => FormattableString.Invariant($"{Steps}/{LearningRate:R}/{IdentityWeight:R}");
}

/// <summary>Tunes a copy of a generator to one reference photo around its latent (see <see cref="PivotalTuningOptions"/>).</summary>
public static class PivotalTuning
{
    /// <summary>
    /// A new generator (the caller owns it) whose synthesis weights were tuned so that G(<paramref name="pivot"/>), with
    /// the generator's fixed noise, reproduces <paramref name="photo"/>; <paramref name="generator"/> is not changed.
    /// </summary>
    /// <param name="generator">The prior; its weights are copied.</param>
    /// <param name="pivot">w_z (1, n_latent, style_dim), held fixed.</param>
    /// <param name="photo">Z, (1, 3, S, S) or (3, S, S) RGB in [0, 1], aligned like the generator's faces (resized to S).</param>
    /// <param name="options">Steps, learning rate and identity weight.</param>
    /// <param name="identity">Adds the identity loss when given and its weight is above 0.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    public static StyleGan2Generator Tune(StyleGan2Generator generator, Tensor pivot, Tensor photo, PivotalTuningOptions options,
        IIdentityNetwork? identity = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(pivot);
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var device = RestorationInputs.DeviceOf(generator);
        var size = generator.Config.Size;
        var tuned = Copy(generator);
        try
        {
            using var outer = NewDisposeScope();
            var w = RestorationInputs.Latent(pivot, generator, "pivot latent w_z", device).detach();
            Tensor target;
            Tensor? targetEmbedding = null;
            using (no_grad())
            {
                var z = RestorationInputs.Image(photo, "reference photo Z", device);
                target = RestorationInputs.Resize(z, size);
                if (identity is not null && options.IdentityWeight > 0)
                {
                    targetEmbedding = identity.Embed(z).detach();
                }
            }
            // Only the synthesis weights take part: w is fixed, so the mapping network's gradient would be zero anyway.
            var parameters = new List<(string Name, Tensor Parameter)>();
            foreach (var (name, parameter) in tuned.named_parameters())
            {
                var synthesis = !name.StartsWith("style.", StringComparison.Ordinal);
                parameter.requires_grad_(synthesis);
                if (synthesis)
                {
                    parameters.Add((name, parameter));
                }
            }
            using var adam = new Training.ParameterAdam(parameters, options.LearningRate, 0.9, 0.999, 1e-8);
            for (var i = 0; i < options.Steps; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var image = OutputNormalization.Paper(tuned.Synthesis(w, randomizeNoise: false));
                var loss = (image - target).pow(2).mean();
                if (targetEmbedding is not null)
                {
                    loss = loss + options.IdentityWeight * (1 - identity!.Similarity(identity.Embed(image), targetEmbedding).mean());
                }
                tuned.zero_grad();
                loss.backward();
                if (!adam.GradientsFinite())
                {
                    // A non-finite step would spoil the weights: stop with what the finite steps gave.
                    break;
                }
                adam.Update();
            }
            // Frozen like the prior, and without gradients (zero_grad sets them to none), so the copy costs its weights only.
            tuned.zero_grad();
            foreach (var p in tuned.parameters())
            {
                p.requires_grad_(false);
            }
            return tuned;
        }
        catch
        {
            tuned.Dispose();
            throw;
        }
    }

    /// <summary>A new generator like <paramref name="generator"/> (configuration, latent_avg, modulation, device) with <paramref name="weights"/> (default: its own).</summary>
    internal static StyleGan2Generator Copy(StyleGan2Generator generator, IReadOnlyDictionary<string, Tensor>? weights = null)
    {
        var copy = new StyleGan2Generator(generator.Config);
        try
        {
            copy.to(RestorationInputs.DeviceOf(generator));
            StateDictLoader.Load(copy, (IEnumerable<KeyValuePair<string, Tensor>>?)weights ?? generator.state_dict(), "generator");
            copy.LatentAvg = generator.LatentAvg;
            copy.Modulation = generator.Modulation;
            copy.eval();
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }
}

/// <summary>
/// The tuned weights of the last few references, so that an album's faces of one person tune the generator once:
/// keyed by the prior (its configuration and mean latent), the pivot, the photo and the tuning options (SHA-256 of their
/// bytes), least recently used first out. Each call hands out a generator of its own built from the kept weights, which
/// the caller disposes; runs tuned to one reference may still share a batched pass (<see cref="TunedWithKey"/>).
/// Thread-safe; two runs that miss on the same key at once both tune. With a <see cref="ContentStore"/>, tuned weights
/// are also written there and read back on a miss, so a restarted silo does not tune to the same reference again.
/// </summary>
public sealed class PivotalTuningCache(int capacity, ContentStore? store = null) : IDisposable
{
    private readonly ContentCache<Dictionary<string, Tensor>> _cache = new(capacity, Dispose);

    /// <summary>Tuned generators kept (0 keeps none).</summary>
    public int Capacity => _cache.Capacity;

    /// <summary>Calls answered from kept weights.</summary>
    public long Hits => _cache.Hits;

    /// <summary>Calls not answered from memory (they read the store, or tuned).</summary>
    public long Misses => _cache.Misses;

    /// <summary>Where tuned weights outlive the silo; null keeps them in memory only.</summary>
    public ContentStore? Store => store;

    /// <summary>
    /// <see cref="PivotalTuning.Tune"/>'s result for these inputs: a new generator the caller owns, from kept weights when
    /// the same prior, pivot, photo and options were tuned before.
    /// </summary>
    public StyleGan2Generator Tuned(StyleGan2Generator generator, Tensor pivot, Tensor photo, PivotalTuningOptions options,
        IIdentityNetwork? identity = null, CancellationToken cancellationToken = default) =>
        TunedWithKey(generator, pivot, photo, options, identity, cancellationToken).Generator;

    /// <summary>
    /// <see cref="Tuned"/>, with what identifies the returned weights: the content key under which they are kept (equal
    /// keys: equal weights, so runs tuned to one reference may share a batched pass), or the generator itself when
    /// this cache keeps nothing.
    /// </summary>
    internal (StyleGan2Generator Generator, object Key) TunedWithKey(StyleGan2Generator generator, Tensor pivot, Tensor photo,
        PivotalTuningOptions options, IIdentityNetwork? identity = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(pivot);
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(options);
        var key = ContentCache<Dictionary<string, Tensor>>.Key(generator,
            $"{options.Fingerprint()}|{(options.IdentityWeight > 0 ? identity?.GetType().FullName : null)}", pivot, photo);
        if (_cache.TryGet(key, out var kept))
        {
            return (PivotalTuning.Copy(generator, kept), key);
        }
        var storeKey = store is null ? null : ContentStore.KeyFor(generator, key);
        if (storeKey is not null && Stored(generator, storeKey) is ({ } fromStore, { } stored))
        {
            if (Capacity > 0)
            {
                _cache.Add(key, stored);
                return (fromStore, key);
            }
            Dispose(stored);
            return (fromStore, fromStore);
        }
        var tuned = PivotalTuning.Tune(generator, pivot, photo, options, identity, cancellationToken);
        if (storeKey is not null)
        {
            store!.Write(storeKey, Safetensors.Serialize(StateDictLoader.Entries(tuned)));
        }
        if (Capacity > 0)
        {
            _cache.Add(key, StateDictLoader.Entries(tuned).ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope()));
            return (tuned, key);
        }
        return (tuned, tuned);
    }

    /// <summary>
    /// A generator built from the weights kept in the store under <paramref name="storeKey"/>, and those weights on the
    /// generator's device; nulls when there are none (a file that does not fit G is removed).
    /// </summary>
    private (StyleGan2Generator? Generator, Dictionary<string, Tensor>? Weights) Stored(StyleGan2Generator generator, string storeKey)
    {
        if (store!.Read(storeKey) is not { } bytes)
        {
            return (null, null);
        }
        var device = RestorationInputs.DeviceOf(generator);
        Dictionary<string, Tensor>? weights = null;
        try
        {
            using var scope = NewDisposeScope();
            var (tensors, _) = Safetensors.Deserialize(bytes, Path.Combine(store.Directory, storeKey));
            weights = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.to(device).DetachFromDisposeScope());
            // The copy checks names and shapes against G (a CheckpointException when the file does not fit it).
            return (PivotalTuning.Copy(generator, weights), weights);
        }
        catch (CheckpointException)
        {
            if (weights is not null)
            {
                Dispose(weights);
            }
            store.Forget(storeKey);
            return (null, null);
        }
    }

    private static void Dispose(Dictionary<string, Tensor> weights)
    {
        foreach (var (_, tensor) in weights)
        {
            tensor.Dispose();
        }
    }

    public void Dispose() => _cache.Dispose();
}
