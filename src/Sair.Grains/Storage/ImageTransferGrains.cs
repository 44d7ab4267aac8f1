using System.Runtime.CompilerServices;
using Orleans.Concurrency;
using Sair.Grains.Ports;
using Sair.Grains.Tenancy;

namespace Sair.Grains.Storage;

[StatelessWorker]
public sealed class ImageTransferGrain(IImageStore images) : Grain, IImageTransferGrain
{
    public async Task PutAsync(string path, byte[] content)
    {
        ClientImagePaths.CheckWrite(path);
        if (content.Length > ClientImagePaths.ChunkSize)
        {
            throw new ArgumentException($"{content.Length} bytes in one call: blobs above {ClientImagePaths.ChunkSize} bytes go through an upload.", nameof(content));
        }

        await Ownership.CheckPathAsync(GrainFactory, path);
        await TenantStorage.ReserveAsync(GrainFactory, path, content.Length);
        await images.PutAsync(path, content, CancellationToken.None);
    }

    public async IAsyncEnumerable<byte[]> ReadAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ClientImagePaths.CheckRead(path);
        await Ownership.CheckPathAsync(GrainFactory, path);
        foreach (var chunk in ClientImagePaths.Chunks(await images.GetAsync(path, cancellationToken)))
        {
            yield return chunk;
        }
    }

    public async Task<bool> ExistsAsync(string path)
    {
        ClientImagePaths.CheckRead(path);
        await Ownership.CheckPathAsync(GrainFactory, path);
        return await images.ExistsAsync(path, CancellationToken.None);
    }
}

public sealed class ImageUploadGrain(IImageStore images) : Grain, IImageUploadGrain
{
    private readonly MemoryStream _received = new();

    public Task AppendAsync(byte[] chunk)
    {
        if (_received.Length + chunk.Length > ClientImagePaths.MaxUpload)
        {
            throw new ArgumentException($"An upload may hold at most {ClientImagePaths.MaxUpload >> 20} MiB.", nameof(chunk));
        }

        _received.Write(chunk);
        return Task.CompletedTask;
    }

    public async Task CommitAsync(string path, long length)
    {
        ClientImagePaths.CheckWrite(path);
        if (_received.Length != length)
        {
            throw new InvalidOperationException($"The upload of '{path}' holds {_received.Length} bytes, not the {length} sent: nothing was written.");
        }

        await Ownership.CheckPathAsync(GrainFactory, path);
        await TenantStorage.ReserveAsync(GrainFactory, path, _received.Length);
        await images.PutAsync(path, _received.ToArray(), CancellationToken.None);
        DeactivateOnIdle();
    }
}
