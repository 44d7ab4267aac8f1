using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Sair.Engine.IO;

/// <summary>NumPy <c>.npy</c> files (format 1.0–3.0, C order, little-endian float32/float64/int32/int64/uint8/bool).</summary>
internal static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads an array as a CPU tensor of the file's own dtype.</summary>
    public static Tensor Read(string path)
    {
        CheckpointException.ThrowIfMissing(path, ".npy");
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads an array from the bytes of a .npy file; <paramref name="name"/> is used in errors.</summary>
    public static Tensor Read(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
        {
            throw new CheckpointException(name, "not a NumPy .npy file (bad magic).");
        }
        int major = bytes[6];
        int headerLength;
        int headerStart;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]));
            headerStart = 12;
        }
        else
        {
            throw new CheckpointException(name, $"unsupported .npy format version {major}.");
        }
        if (headerStart + headerLength > bytes.Length)
        {
            throw new CheckpointException(name, "truncated .npy header.");
        }

        var header = Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLength));
        var descr = DescrRegex().Match(header);
        var order = FortranRegex().Match(header);
        var shapeMatch = ShapeRegex().Match(header);
        if (!descr.Success || !order.Success || !shapeMatch.Success)
        {
            throw new CheckpointException(name, $"unreadable .npy header: {header.Trim()}");
        }
        if (order.Groups[1].Value == "True")
        {
            throw new CheckpointException(name, "Fortran-order arrays are not supported; save with np.ascontiguousarray.");
        }
        var shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture))
            .ToArray();
        var (dtype, itemSize) = descr.Groups[1].Value switch
        {
            "<f4" => (ScalarType.Float32, 4),
            "<f8" => (ScalarType.Float64, 8),
            "<f2" => (ScalarType.Float16, 2),
            "<i4" => (ScalarType.Int32, 4),
            "<i8" => (ScalarType.Int64, 8),
            "|u1" => (ScalarType.Byte, 1),
            "|b1" => (ScalarType.Bool, 1),
            var other => throw new CheckpointException(name, $"unsupported .npy dtype '{other}'."),
        };
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var dataStart = headerStart + headerLength;
        if (bytes.Length - dataStart != count * itemSize)
        {
            throw new CheckpointException(name,
                $"the data holds {bytes.Length - dataStart} bytes but shape ({string.Join(", ", shape)}) of {descr.Groups[1].Value} needs {count * itemSize}.");
        }
        return TensorBytes.FromLittleEndian(bytes[dataStart..], dtype, shape);
    }

    /// <summary>Writes a tensor as a .npy file (format 1.0, C order); the file is written beside and renamed.</summary>
    public static void Write(string path, Tensor tensor)
    {
        var descr = tensor.dtype switch
        {
            ScalarType.Float32 => "<f4",
            ScalarType.Float64 => "<f8",
            ScalarType.Float16 => "<f2",
            ScalarType.Int32 => "<i4",
            ScalarType.Int64 => "<i8",
            ScalarType.Byte => "|u1",
            ScalarType.Bool => "|b1",
            var other => throw new ArgumentException($"dtype {other} cannot be written as .npy", nameof(tensor)),
        };
        var shape = tensor.shape.Length switch
        {
            0 => "()",
            1 => $"({tensor.shape[0]},)",
            _ => "(" + string.Join(", ", tensor.shape) + ")",
        };
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        var unpadded = Magic.Length + 4 + dict.Length + 1;
        var header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";

        using var buffer = new MemoryStream();
        buffer.Write(Magic);
        buffer.WriteByte(1);
        buffer.WriteByte(0);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, checked((ushort)header.Length));
        buffer.Write(len);
        buffer.Write(Encoding.Latin1.GetBytes(header));
        buffer.Write(TensorBytes.ToLittleEndian(tensor));
        AtomicFile.WriteAllBytes(path, buffer.ToArray());
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
