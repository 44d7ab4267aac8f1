using System.Security.Cryptography;
using System.Text;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Sair.Silo.Storage;

/// <summary>
/// Grain state on local disk for the embedded grid: one file per grain and state name under
/// <c>{root}/{provider}/{stateName}/</c>, so state survives a restart without any database.
/// A write goes to a temporary file that is renamed over the old one (never a torn state file) and is refused with
/// <see cref="InconsistentStateException"/> when the stored ETag is not the one the activation last read, which
/// catches a stale duplicate activation. An exclusive lock file per provider folder makes check-and-rename atomic
/// across the silo processes of one machine.
/// </summary>
public sealed class FileGrainStorage : IGrainStorage
{
    private const int MaxFileNameBytes = 200;
    private static readonly byte[] Magic = "SAIRGS1\n"u8.ToArray();

    private readonly string _folder;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider _activators;
    private readonly SemaphoreSlim _processGate = new(1, 1);

    public FileGrainStorage(string root, string providerName, IGrainStorageSerializer serializer, IActivatorProvider activators)
    {
        _folder = Path.Combine(Path.GetFullPath(root), providerName);
        Directory.CreateDirectory(_folder);
        _serializer = serializer;
        _activators = activators;
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var stored = await ReadFileAsync(PathOf(stateName, grainId));
        if (stored is null)
        {
            grainState.State = _activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        grainState.State = _serializer.Deserialize<T>(stored.Value.Payload);
        grainState.ETag = stored.Value.ETag;
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = _serializer.Serialize(grainState.State).ToArray();
        var etag = Guid.NewGuid().ToString("N");
        await UnderLockAsync(stateName, grainId, grainState.ETag, async path =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = $"{path}.{Guid.NewGuid():N}.partial";
            try
            {
                await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    await WriteEnvelopeAsync(stream, etag, payload);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temporary, path, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }
        });
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await UnderLockAsync(stateName, grainId, grainState.ETag, path =>
        {
            File.Delete(path);
            return Task.CompletedTask;
        });
        grainState.State = _activators.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>The file holding one grain's state; long or odd keys become a hash so every key maps to a legal name.</summary>
    internal string PathOf(string stateName, GrainId grainId)
    {
        var key = Uri.EscapeDataString(grainId.ToString());
        if (Encoding.UTF8.GetByteCount(key) > MaxFileNameBytes)
        {
            key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(grainId.ToString())));
        }

        return Path.Combine(_folder, Uri.EscapeDataString(stateName), key + ".state");
    }

    private async Task UnderLockAsync(string stateName, GrainId grainId, string? expectedETag, Func<string, Task> change)
    {
        var path = PathOf(stateName, grainId);
        await _processGate.WaitAsync();
        try
        {
            using var fileLock = await FileLock.AcquireAsync(Path.Combine(_folder, ".lock"));
            var current = (await ReadFileAsync(path))?.ETag;
            if (current != expectedETag)
            {
                throw new InconsistentStateException(
                    $"State '{stateName}' of {grainId} changed under this activation (stored ETag {current ?? "none"}, " +
                    $"expected {expectedETag ?? "none"}): another activation wrote it.",
                    current ?? string.Empty, expectedETag ?? string.Empty);
            }

            await change(path);
        }
        finally
        {
            _processGate.Release();
        }
    }

    private static async Task WriteEnvelopeAsync(Stream stream, string etag, byte[] payload)
    {
        var etagBytes = Encoding.ASCII.GetBytes(etag + "\n");
        await stream.WriteAsync(Magic);
        await stream.WriteAsync(etagBytes);
        await stream.WriteAsync(payload);
    }

    private static async Task<(string ETag, BinaryData Payload)?> ReadFileAsync(string path)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        var etagEnd = bytes.AsSpan(Magic.Length).IndexOf((byte)'\n');
        if (!bytes.AsSpan().StartsWith(Magic) || etagEnd < 0)
        {
            throw new InvalidDataException(
                $"Grain state file '{path}' is not a SairGrid state file: move it away (the grain then starts empty).");
        }

        var etag = Encoding.ASCII.GetString(bytes, Magic.Length, etagEnd);
        return (etag, BinaryData.FromBytes(bytes.AsMemory(Magic.Length + etagEnd + 1)));
    }
}
