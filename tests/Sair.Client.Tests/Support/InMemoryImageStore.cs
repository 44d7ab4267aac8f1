using System.Collections.Concurrent;
using Sair.Grains.Engine;

namespace Sair.Client.Tests.Support;

/// <summary>The image store the test cluster and the client share.</summary>
public sealed class InMemoryImageStore : IImageStore
{
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);

    public IEnumerable<string> Paths => _blobs.Keys;

    public Task PutAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        _blobs[path] = [.. content];
        return Task.CompletedTask;
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
