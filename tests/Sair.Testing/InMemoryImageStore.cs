using System.Collections.Concurrent;
using Sair.Grains.Ports;

namespace Sair.Testing;

/// <summary>One store shared by every silo of a test cluster, counting writes per path.</summary>
public sealed class InMemoryImageStore : IImageStore
{
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> Puts { get; } = new(StringComparer.Ordinal);

    public IEnumerable<string> Paths => _blobs.Keys;

    /// <summary>Runs before a put lands: a test holds a write in flight there (<see cref="PutGate"/>) or fails it.</summary>
    public Func<string, Task>? BeforePut { get; set; }

    /// <summary>Runs after a put landed, before the writer learns it did: a test holds or fails the writer there.</summary>
    public Func<string, Task>? AfterPut { get; set; }

    public async Task PutAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        if (BeforePut is { } before)
        {
            await before(path);
        }

        _blobs[path] = [.. content];
        Puts.AddOrUpdate(path, 1, (_, count) => count + 1);
        if (AfterPut is { } after)
        {
            await after(path);
        }
    }

    public Task<byte[]> GetAsync(string path, CancellationToken cancellationToken) =>
        _blobs.TryGetValue(path, out var content)
            ? Task.FromResult<byte[]>([.. content])
            : throw new FileNotFoundException($"No blob at '{path}'.", path);

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) => Task.FromResult(_blobs.ContainsKey(path));

    public Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        _blobs.TryRemove(path, out _);
        return Task.CompletedTask;
    }
}
