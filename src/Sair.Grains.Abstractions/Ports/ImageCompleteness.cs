#if SAIR_ENGINE
namespace Sair.Engine.Imaging;
#else
namespace Sair.Grains.Ports;
#endif

/// <summary>
/// Whether an encoded JPEG or PNG holds all of its image: decoders fill the rest of a truncated file (a copy that broke
/// off, a scan that stopped) with grey or black and report success, so a half photo would be restored — or enrolled as
/// a reference — as if it were whole. Checked wherever photos enter the grid: the client's intake, pool enrolment and
/// the engine worker's input — and, compiled into Sair.Engine as well (an internal copy of this one file: the engine
/// has no Orleans), wherever the engine decodes a file (<c>ImageFiles.Decode</c>: training data, alignment).
/// </summary>
#if SAIR_ENGINE
internal static class ImageCompleteness
#else
public static class ImageCompleteness
#endif
{
    /// <summary>Why <paramref name="image"/> is cut short, or null when it is whole (or not a JPEG or PNG: other formats are left to their decoders).</summary>
    public static string? Problem(ReadOnlySpan<byte> image)
    {
        if (image.Length >= 3 && image[0] == 0xFF && image[1] == 0xD8 && image[2] == 0xFF)
        {
            // The last scan (SOS, FF DA) must be followed by an end-of-image marker (FF D9). Inside entropy-coded data
            // every FF is followed by 00 or a restart marker, so FF D9 there is the end; a thumbnail's own FF D9
            // comes before the main image's scan, and an appended image (MPF) ends with its own.
            var lastScan = LastMarker(image, 0xDA);
            return lastScan >= 0 && LastMarker(image, 0xD9) > lastScan
                ? null
                : "truncated JPEG: the file ends before its image data does (no end-of-image marker after the last scan); copy or scan it again";
        }

        if (image.Length >= 8 && image[..8].SequenceEqual(PngSignature))
        {
            return image.LastIndexOf("IEND"u8) >= 8
                ? null
                : "truncated PNG: the file ends before its IEND chunk; copy or export it again";
        }

        return null;
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static int LastMarker(ReadOnlySpan<byte> image, byte marker)
    {
        for (var i = image.Length - 2; i >= 0; i--)
        {
            if (image[i] == 0xFF && image[i + 1] == marker)
            {
                return i;
            }
        }

        return -1;
    }
}
