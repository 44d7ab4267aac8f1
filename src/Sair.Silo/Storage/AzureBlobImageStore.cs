using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Sair.Grains.Ports;

namespace Sair.Silo.Storage;

/// <summary>
/// The image store of a cluster on Azure Storage (or Azurite): one blob per path in one container.
/// A put is a single whole-blob upload, which Blob Storage commits atomically: readers see the old blob or the new
/// one, never a part, the same guarantee the file-system store gets from rename.
/// </summary>
public sealed class AzureBlobImageStore : IImageStore
{
    private readonly BlobContainerClient _container;
    private volatile bool _containerExists;

    public AzureBlobImageStore(BlobContainerClient container) => _container = container;

    public async Task PutAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        var options = new BlobUploadOptions
        {
            // One request for the whole blob: no staged blocks a crash could leave half-committed.
            TransferOptions = new() { InitialTransferSize = Math.Max(content.Length, 1), MaximumTransferSize = Math.Max(content.Length, 1) },
        };
        await Blob(path).UploadAsync(BinaryData.FromBytes(content), options, cancellationToken);
    }

    public async Task<byte[]> GetAsync(string path, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        try
        {
            var download = await Blob(path).DownloadContentAsync(cancellationToken);
            return download.Value.Content.ToArray();
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            throw new FileNotFoundException($"No blob at '{path}' in container '{_container.Name}'.", path, exception);
        }
    }

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        return (await Blob(path).ExistsAsync(cancellationToken)).Value;
    }

    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        await Blob(path).DeleteIfExistsAsync(cancellationToken: cancellationToken);
    }

    /// <summary>Creates the container on first use; a failure (storage not up yet) is retried by the next call.</summary>
    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (!_containerExists)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            _containerExists = true;
        }
    }

    private BlobClient Blob(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || path.StartsWith('/') || path.Split('/', '\\').Contains(".."))
        {
            throw new ArgumentException($"Image-store path '{path}' must be relative, '/'-separated and without '..'.", nameof(path));
        }

        return _container.GetBlobClient(path);
    }
}
