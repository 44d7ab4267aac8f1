namespace Sair.Grains.Ports;

/// <summary>
/// Blob-like storage for photos, results and checkpoints, addressed by '/'-separated relative paths.
/// Grain state keeps only these paths; the bytes live here.
/// </summary>
public interface IImageStore
{
    /// <summary>Writes <paramref name="content"/> at <paramref name="path"/>, replacing it atomically.</summary>
    Task PutAsync(string path, byte[] content, CancellationToken cancellationToken);

    /// <summary>Reads the blob; throws <see cref="FileNotFoundException"/> naming the path when it is missing.</summary>
    Task<byte[]> GetAsync(string path, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken);

    /// <summary>Removes the blob; a missing blob is not an error.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken);
}
