using Sair.Grains.Ports;
using Sair.Grains.Storage;

namespace Sair.Client.Grid;

/// <summary>
/// The image store as a client sees it: every byte goes through the grid's gateway (<see cref="IImageTransferGrain"/>,
/// <see cref="IImageUploadGrain"/>), so sair works against any grid, whatever store its silos use, with no storage
/// credentials and no shared folder.
/// </summary>
public sealed class GridImageStore(IGrainFactory grains) : IImageStore
{
    private IImageTransferGrain Transfer => grains.GetGrain<IImageTransferGrain>(0);

    public async Task PutAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        if (content.Length <= ClientImagePaths.ChunkSize)
        {
            await Transfer.PutAsync(path, content).WaitAsync(cancellationToken);
            return;
        }

        if (content.Length > ClientImagePaths.MaxUpload)
        {
            throw new ArgumentException($"'{path}' is {content.Length >> 20} MiB: the grid takes at most {ClientImagePaths.MaxUpload >> 20} MiB per image.", nameof(content));
        }

        var upload = grains.GetGrain<IImageUploadGrain>(Guid.NewGuid());
        foreach (var chunk in ClientImagePaths.Chunks(content))
        {
            await upload.AppendAsync(chunk).WaitAsync(cancellationToken);
        }

        await upload.CommitAsync(path, content.Length).WaitAsync(cancellationToken);
    }

    public async Task<byte[]> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream();
        await foreach (var chunk in Transfer.ReadAsync(path, cancellationToken).WithCancellation(cancellationToken))
        {
            content.Write(chunk);
        }

        return content.ToArray();
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) =>
        Transfer.ExistsAsync(path).WaitAsync(cancellationToken);

    /// <summary>A client never deletes from the grid's store: results and inputs belong to their album.</summary>
    public Task DeleteAsync(string path, CancellationToken cancellationToken) =>
        throw new NotSupportedException("sair does not delete from the grid's image store.");
}
