using System.Buffers.Binary;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Sair.Client.Tests.Support;

public static class TestImages
{
    public static string SampleAlbum => Path.Combine(RepoPaths.Root, "samples", "album");

    public static string SamplePhoto(string name) => Path.Combine(SampleAlbum, "photos", name);

    public static string SampleReference(string name) => Path.Combine(SampleAlbum, "references", name);

    public static byte[] Grayscale(string photo)
    {
        using var image = Image.Load<L8>(photo);
        return Png(image);
    }

    public static byte[] Flat(int side, byte value)
    {
        using var image = new Image<Rgb24>(side, side, new Rgb24(value, value, value));
        return Png(image);
    }

    /// <summary>A valid PNG header announcing <paramref name="width"/>×<paramref name="height"/> with no pixel data: a decompression-bomb stand-in.</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // RGB
        using var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(stream, "IHDR", header);
        Chunk(stream, "IEND", []);
        return stream.ToArray();
    }

    /// <summary>The first bytes of a real JPEG (its markers) followed by noise where the scan data should be.</summary>
    public static byte[] CorruptJpeg(string jpeg)
    {
        var bytes = File.ReadAllBytes(jpeg);
        var noise = new byte[bytes.Length];
        new Random(3).NextBytes(noise);
        return [.. bytes.AsSpan(0, 24), .. noise];
    }

    private static byte[] Png<TPixel>(Image<TPixel> image)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder());
        return stream.ToArray();
    }

    private static void Chunk(Stream stream, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typed);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        stream.Write(crc);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
