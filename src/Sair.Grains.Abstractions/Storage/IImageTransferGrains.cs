namespace Sair.Grains.Storage;

/// <summary>
/// The client's only door to the image store: photos go up and results come down through the grid, so a client needs
/// neither storage credentials nor the silos' folder, whatever store the silos use (a folder, Azure blobs). Stateless:
/// it runs on the gateway silo the client called. A client may write only under <c>albums/</c> and read only under
/// <c>albums/</c> and <c>pools/</c> (<see cref="ClientImagePaths"/>); checkpoints, jobs and training stay the silos'.
/// </summary>
[Alias("sair.IImageTransferGrain")]
public interface IImageTransferGrain : IGrainWithIntegerKey
{
    /// <summary>Writes a blob of at most <see cref="ClientImagePaths.ChunkSize"/> bytes in one call.</summary>
    [Alias("Put")]
    Task PutAsync(string path, byte[] content);

    /// <summary>
    /// The blob in chunks of <see cref="ClientImagePaths.ChunkSize"/> bytes (none for an empty blob); a missing blob
    /// throws <see cref="FileNotFoundException"/>.
    /// </summary>
    [Alias("Read")]
    IAsyncEnumerable<byte[]> ReadAsync(string path, CancellationToken cancellationToken = default);

    [Alias("Exists")]
    Task<bool> ExistsAsync(string path);
}

/// <summary>
/// One upload larger than a chunk, keyed by a fresh id: the client appends the chunks in order and commits them to their
/// path. The bytes wait in this activation's memory, never half-written in the store; an upload whose client went away
/// is dropped when the activation idles out.
/// </summary>
[Alias("sair.IImageUploadGrain")]
public interface IImageUploadGrain : IGrainWithGuidKey
{
    [Alias("Append")]
    Task AppendAsync(byte[] chunk);

    /// <summary>Writes the appended bytes at <paramref name="path"/>, refusing them unless there are exactly <paramref name="length"/>.</summary>
    [Alias("Commit")]
    Task CommitAsync(string path, long length);
}

/// <summary>What a client may touch in the image store, and the chunk size of transfers.</summary>
public static class ClientImagePaths
{
    /// <summary>Bytes per grain message of a transfer: far under Orleans' message size limit (100 MB by default).</summary>
    public const int ChunkSize = 1 << 20;

    /// <summary>The largest blob a client may upload (a photo, a manifest).</summary>
    public const long MaxUpload = 512L << 20;

    private static readonly string[] Writable = ["albums/"];

    private static readonly string[] Readable = ["albums/", "pools/"];

    /// <summary>The transfer chunks of <paramref name="content"/>, in order (none for empty content).</summary>
    public static IEnumerable<byte[]> Chunks(byte[] content)
    {
        for (var offset = 0; offset < content.Length; offset += ChunkSize)
        {
            yield return content[offset..Math.Min(content.Length, offset + ChunkSize)];
        }
    }

    public static void CheckWrite(string path) => Check(path, Writable, "write");

    public static void CheckRead(string path) => Check(path, Readable, "read");

    private static void Check(string path, string[] prefixes, string verb)
    {
        if (string.IsNullOrWhiteSpace(path) || path.StartsWith('/') || path.Contains('\\')
            || path.Split('/').Any(segment => segment is "" or "." or "..")
            || !prefixes.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal)))
        {
            throw new ArgumentException(
                $"A client may not {verb} '{path}' in the image store: only relative paths under {string.Join(" or ", prefixes)}, without '.' or '..' segments.",
                nameof(path));
        }
    }
}
