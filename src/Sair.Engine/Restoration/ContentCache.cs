using System.Security.Cryptography;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// A thread-safe least-recently-used map from a content key (SHA-256 of what the value was computed from) to the
/// value, for work a silo repeats per job of the same person: <see cref="PivotalTuningCache"/> and
/// <see cref="ReferenceInversionCache"/>. Evicted (and, on dispose, remaining) values go to <c>onEvict</c>.
/// </summary>
internal sealed class ContentCache<TValue>(int capacity, Action<TValue>? onEvict = null) : IDisposable
{
    private readonly LinkedList<(string Key, TValue Value)> _entries = new();
    private readonly Lock _lock = new();

    /// <summary>Values kept (0 keeps none).</summary>
    public int Capacity { get; } = capacity >= 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), "the capacity must be 0 or more.");

    /// <summary>Look-ups answered from a kept value.</summary>
    public long Hits { get; private set; }

    /// <summary>Look-ups that found none.</summary>
    public long Misses { get; private set; }

    /// <summary>The value kept under <paramref name="key"/> (now the most recently used), counting a hit or a miss.</summary>
    public bool TryGet(string key, out TValue value)
    {
        lock (_lock)
        {
            for (var node = _entries.First; node is not null; node = node.Next)
            {
                if (node.Value.Key == key)
                {
                    _entries.Remove(node);
                    _entries.AddFirst(node);
                    Hits++;
                    value = node.Value.Value;
                    return true;
                }
            }
            Misses++;
        }
        value = default!;
        return false;
    }

    /// <summary>Keeps <paramref name="value"/>, evicting the least recently used beyond the capacity (nothing is kept at 0).</summary>
    public void Add(string key, TValue value)
    {
        if (Capacity == 0)
        {
            onEvict?.Invoke(value);
            return;
        }
        lock (_lock)
        {
            _entries.AddFirst((key, value));
            while (_entries.Count > Capacity)
            {
                onEvict?.Invoke(_entries.Last!.Value.Value);
                _entries.RemoveLast();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var (_, value) in _entries)
            {
                onEvict?.Invoke(value);
            }
            _entries.Clear();
        }
    }

    /// <summary>
    /// SHA-256 of <paramref name="settings"/>, the prior (its configuration and its mean latent, which the copies a silo
    /// leases to its slots share and two trained priors do not) and the bytes of <paramref name="tensors"/>.
    /// </summary>
    public static string Key(StyleGan2Generator generator, string settings, params Tensor[] tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{generator.Config}|{settings}|"));
        foreach (var tensor in generator.LatentAvg is { } latentAvg ? tensors.Prepend(latentAvg) : tensors)
        {
            Append(hash, tensor);
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>Adds a tensor's shape and its float32 bytes to <paramref name="hash"/>.</summary>
    internal static void Append(IncrementalHash hash, Tensor tensor)
    {
        using var cpu = tensor.detach().to(ScalarType.Float32).cpu().contiguous();
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(string.Join(",", cpu.shape) + "|"));
        hash.AppendData(cpu.bytes);
    }
}
