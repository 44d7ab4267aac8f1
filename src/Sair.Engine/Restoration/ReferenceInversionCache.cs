using System.Text.Json;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// The inversions of the last few reference photos, so that the faces restored against one photo given by path project
/// it once per silo instead of once per face (a pool reference keeps its inversion in the pool instead):
/// keyed by the prior, the projection options, the identity net and the photo's bytes (SHA-256), least recently used
/// first out. A kept inversion is its safetensors bytes (a few kB to a few tens of kB). Thread-safe; two runs that
/// miss on the same key at once both project.
/// </summary>
public sealed class ReferenceInversionCache(int capacity) : IDisposable
{
    private readonly ContentCache<byte[]> _cache = new(capacity);

    /// <summary>Inversions kept (0 keeps none).</summary>
    public int Capacity => _cache.Capacity;

    /// <summary>Calls answered from a kept inversion.</summary>
    public long Hits => _cache.Hits;

    /// <summary>Calls that projected.</summary>
    public long Misses => _cache.Misses;

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
        var inversion = ReferenceInversion.Project(generator, photo, options, identity, cancellationToken);
        _cache.Add(key, inversion.ToBytes());
        return inversion;
    }

    public void Dispose() => _cache.Dispose();
}
