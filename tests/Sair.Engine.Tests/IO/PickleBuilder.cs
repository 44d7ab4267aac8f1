using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Sair.Engine.Tests.IO;

/// <summary>Writes pickle opcodes by hand, so tests can make the byte streams torch.save would (and some it would not).</summary>
internal sealed class PickleBuilder
{
    private readonly MemoryStream _bytes = new();

    public PickleBuilder Op(byte opcode)
    {
        _bytes.WriteByte(opcode);
        return this;
    }

    public PickleBuilder Proto(byte protocol) => Op(0x80).Op(protocol);

    public PickleBuilder Mark() => Op((byte)'(');

    public PickleBuilder Global(string module, string name) => Op((byte)'c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    public PickleBuilder Str(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        Op((byte)'X');
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
        return Raw(length).Raw(utf8);
    }

    public PickleBuilder ShortStr(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        return Op(0x8c).Op((byte)utf8.Length).Raw(utf8);
    }

    /// <summary>An int with the smallest of BININT1, BININT2, BININT.</summary>
    public PickleBuilder Int(int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        switch (value)
        {
            case >= 0 and < 256:
                return Op((byte)'K').Op((byte)value);
            case >= 0 and < 65536:
                BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value);
                return Op((byte)'M').Raw(bytes[..2]);
            default:
                BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
                return Op((byte)'J').Raw(bytes);
        }
    }

    public PickleBuilder Float(double value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(bytes, value);
        return Op((byte)'G').Raw(bytes);
    }

    public PickleBuilder Put(byte index) => Op((byte)'q').Op(index);

    public PickleBuilder Get(byte index) => Op((byte)'h').Op(index);

    /// <summary>A tuple of ints from the current position (MARK … TUPLE).</summary>
    public PickleBuilder IntTuple(params int[] values)
    {
        Mark();
        foreach (var v in values)
        {
            Int(v);
        }
        return Op((byte)'t');
    }

    /// <summary>torch._utils._rebuild_tensor_v2 of a storage, as torch.save writes it (protocol 2).</summary>
    public PickleBuilder Tensor(string storageKey, int numel, int offset, int[] size, int[] stride,
        string location = "cpu", string storageType = "FloatStorage")
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Mark();
        Mark().Str("storage").Global("torch", storageType).Str(storageKey).Str(location).Int(numel).Op((byte)'t');
        Op((byte)'Q'); // BINPERSID
        Int(offset).IntTuple(size).IntTuple(stride);
        Op(0x89); // requires_grad False
        Global("collections", "OrderedDict").Op((byte)')').Op((byte)'R'); // backward hooks
        Op((byte)'t');
        return Op((byte)'R');
    }

    public PickleBuilder Raw(ReadOnlySpan<byte> bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>Wraps a pickle and its storages in a zip laid out like torch.save's, under <paramref name="prefix"/>.</summary>
    public static void WriteTorchZip(string path, string prefix, byte[] pickle, IReadOnlyDictionary<string, float[]> storages,
        CompressionLevel pickleCompression = CompressionLevel.NoCompression, string? byteOrder = "little")
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        Add(zip, $"{prefix}/data.pkl", pickle, pickleCompression);
        if (byteOrder is not null)
        {
            Add(zip, $"{prefix}/byteorder", Encoding.ASCII.GetBytes(byteOrder), CompressionLevel.NoCompression);
        }
        foreach (var (key, values) in storages)
        {
            var bytes = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            Add(zip, $"{prefix}/data/{key}", bytes, CompressionLevel.NoCompression);
        }
        Add(zip, $"{prefix}/version", "3\n"u8.ToArray(), CompressionLevel.NoCompression);

        static void Add(ZipArchive zip, string name, byte[] data, CompressionLevel level)
        {
            using var stream = zip.CreateEntry(name, level).Open();
            stream.Write(data);
        }
    }
}
