using System.Text.Json;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.IO;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// The inversions of the last few reference photos, so that the faces restored against one photo given by path project
/// it once per silo instead of once per face (a pool reference keeps its inversion in the pool instead):
/// keyed by the prior, the projection options, the identity net and the photo's bytes (SHA-256), least recently used
/// first out. A kept inversion is its safetensors bytes (a few kB to a few tens of kB). Thread-safe; two runs that
/// miss on the same key at once both project. With a <see cref="ContentStore"/>, inversions are also written there and
/// read back on a miss, so a restarted silo does not project the same photo again.
/// </summary>
public sealed class ReferenceInversionCache(int capacity, ContentStore? store = null) : IDisposable
{
    private readonly ContentCache<byte[]> _cache = new(capacity);

    /// <summary>Inversions kept (0 keeps none).</summary>
    public int Capacity => _cache.Capacity;

    /// <summary>Calls answered from a kept inversion.</summary>
    public long Hits => _cache.Hits;

    /// <summary>Calls not answered from memory (they read the store, or projected).</summary>
    public long Misses => _cache.Misses;

    /// <summary>Where inversions outlive the silo; null keeps them in memory only.</summary>
    public ContentStore? Store => store;

    /// <summary>
    /// <see cref="ReferenceInversion.Project"/>'s result for these inputs (the caller disposes it), read back from a kept
    /// inversion when the same prior, photo and options were projected before.
    /// </summary>
    public ReferenceInversion Projected(StyleGan2Generator generator, Tensor photo, ProjectionOptions options,
        IIdentityNetwork? identity = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(options);
        var key = ContentCache<byte[]>.Key(generator,
            $"{JsonSerializer.Serialize(options)}|{(options.IdentityWeight > 0 ? identity?.GetType().FullName : null)}", photo);
        if (_cache.TryGet(key, out var kept))
        {
            return ReferenceInversion.FromBytes(kept);
        }
        var storeKey = store is null ? null : ContentStore.KeyFor(generator, key);
        if (storeKey is not null && store!.Read(storeKey) is { } stored)
        {
            try
            {
                var fromStore = ReferenceInversion.FromBytes(stored);
                _cache.Add(key, stored);
                return fromStore;
            }
            catch (CheckpointException)
            {
                store.Forget(storeKey);
            }
        }
        var inversion = ReferenceInversion.Project(generator, photo, options, identity, cancellationToken);
        var bytes = inversion.ToBytes();
        _cache.Add(key, bytes);
        if (storeKey is not null)
        {
            store!.Write(storeKey, bytes);
        }
        return inversion;
    }

    public void Dispose() => _cache.Dispose();
}
