using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace Sair.Testing;

/// <summary>
/// In-memory grain storage that outlives any one silo (the built-in memory storage keeps state in grains, which die
/// with the silo under test). Stands in for a durable store (Azure Table, disk) in failover tests.
/// State is held serialised, as a real store would, so no object is shared between activations.
/// </summary>
public sealed class SharedGrainStorage(ConcurrentDictionary<string, (byte[] State, string ETag)> records, Serializer serializer)
    : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (records.TryGetValue(Key(stateName, grainId), out var record))
        {
            grainState.State = serializer.Deserialize<T>(record.State);
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = Key(stateName, grainId);
        var etag = Guid.NewGuid().ToString("N");
        var bytes = serializer.SerializeToArray(grainState.State);
        records.AddOrUpdate(
            key,
            _ => grainState.ETag is null ? (bytes, etag) : throw Inconsistent(key),
            (_, existing) => existing.ETag == grainState.ETag ? (bytes, etag) : throw Inconsistent(key));
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        records.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static string Key(string stateName, GrainId grainId) => $"{grainId}/{stateName}";

    private static InconsistentStateException Inconsistent(string key) => new($"ETag mismatch writing {key}");
}
