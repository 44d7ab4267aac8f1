namespace Sair.Engine.Imaging;

/// <summary>Decoder limits for untrusted files: checked from the header before a single pixel is decoded.</summary>
public sealed record ImageLimits
{
    /// <summary>Largest accepted file, in bytes (default 64 MiB).</summary>
    public long MaxFileBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest accepted width × height (default 40 megapixels, e.g. 8000 × 5000).</summary>
    public long MaxPixels { get; init; } = 40_000_000;

    /// <summary>Largest accepted side in pixels (default 16384).</summary>
    public int MaxSide { get; init; } = 16_384;

    public static ImageLimits Default { get; } = new();
}
