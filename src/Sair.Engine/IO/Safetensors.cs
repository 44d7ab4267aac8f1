using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Sair.Engine.IO;

/// <summary>The safetensors format: an 8-byte header length, a JSON header, then the raw little-endian data.</summary>
internal static class Safetensors
{
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>True when the file starts like a safetensors file (a sane length followed by '{').</summary>
    public static bool LooksLike(ReadOnlySpan<byte> head)
    {
        if (head.Length < 9)
        {
            return false;
        }
        var length = BinaryPrimitives.ReadUInt64LittleEndian(head);
        return length is > 1 and < MaxHeaderBytes && head[8] == (byte)'{';
    }

    /// <summary>Reads every tensor of the file, in file order, onto the CPU; also returns the header's metadata.</summary>
    public static (IReadOnlyList<KeyValuePair<string, Tensor>> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        CheckpointException.ThrowIfMissing(path, "safetensors");
        return Deserialize(File.ReadAllBytes(path), path);
    }

    /// <summary>
    /// Reads every tensor of an in-memory safetensors image (e.g. a checkpoint kept in a database), in file order,
    /// onto the CPU; <paramref name="source"/> names it in errors.
    /// </summary>
    public static (IReadOnlyList<KeyValuePair<string, Tensor>> Tensors, IReadOnlyDictionary<string, string> Metadata) Deserialize(
        byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (!LooksLike(bytes))
        {
            throw new CheckpointException(source, "not a safetensors file (no JSON header).");
        }
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (8 + headerLength > bytes.Length)
        {
            throw new CheckpointException(source, "truncated safetensors header.");
        }
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!.AsObject();
        }
        catch (JsonException e)
        {
            throw new CheckpointException(source, $"the safetensors header is not valid JSON: {e.Message}", e);
        }

        var dataStart = 8 + headerLength;
        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, long Begin, Tensor Tensor)>();
        try
        {
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__")
                {
                    foreach (var (k, v) in node!.AsObject())
                    {
                        metadata[k] = v?.GetValue<string>() ?? "";
                    }
                    continue;
                }
                var info = node!.AsObject();
                var dtypeName = info["dtype"]!.GetValue<string>();
                var dtype = dtypeName switch
                {
                    "F32" => ScalarType.Float32,
                    "F64" => ScalarType.Float64,
                    "F16" => ScalarType.Float16,
                    "BF16" => ScalarType.BFloat16,
                    "I64" => ScalarType.Int64,
                    "I32" => ScalarType.Int32,
                    "I16" => ScalarType.Int16,
                    "I8" => ScalarType.Int8,
                    "U8" => ScalarType.Byte,
                    "BOOL" => ScalarType.Bool,
                    _ => throw new CheckpointException(source, $"tensor '{name}' has unsupported dtype {dtypeName}."),
                };
                var shape = info["shape"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
                var offsets = info["data_offsets"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
                var begin = dataStart + offsets[0];
                var end = dataStart + offsets[1];
                var expected = shape.Aggregate(1L, (a, b) => a * b) * TensorBytes.ElementSize(dtype);
                if (offsets[0] < 0 || end > bytes.Length || end - begin != expected)
                {
                    throw new CheckpointException(source,
                        $"tensor '{name}' ({dtypeName}, shape ({string.Join(", ", shape)})) points at bytes {offsets[0]}..{offsets[1]} " +
                        $"but needs {expected} bytes within the {bytes.Length - dataStart} bytes of data (truncated or corrupt file).");
                }
                entries.Add((name, begin, TensorBytes.FromLittleEndian(bytes.AsSpan((int)begin, (int)(end - begin)), dtype, shape)));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
        {
            foreach (var entry in entries)
            {
                entry.Tensor.Dispose();
            }
            throw new CheckpointException(source, $"malformed safetensors header: {e.Message}", e);
        }

        return (entries.OrderBy(e => e.Begin).Select(e => KeyValuePair.Create(e.Name, e.Tensor)).ToList(), metadata);
    }

    /// <summary>Writes tensors (in the given order) and optional metadata as a safetensors file, atomically.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        AtomicFile.Write(path, stream => Serialize(stream, tensors, metadata));
    }

    /// <summary>The safetensors image of the tensors (in the given order) and optional metadata, in memory.</summary>
    public static byte[] Serialize(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        Serialize(stream, tensors, metadata);
        return stream.ToArray();
    }

    private static void Serialize(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata)
            {
                meta[k] = v;
            }
            header["__metadata__"] = meta;
        }
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            var data = TensorBytes.ToLittleEndian(tensor);
            header[name] = new JsonObject
            {
                ["dtype"] = tensor.dtype switch
                {
                    ScalarType.Float32 => "F32",
                    ScalarType.Float64 => "F64",
                    ScalarType.Float16 => "F16",
                    ScalarType.BFloat16 => "BF16",
                    ScalarType.Int64 => "I64",
                    ScalarType.Int32 => "I32",
                    ScalarType.Int16 => "I16",
                    ScalarType.Int8 => "I8",
                    ScalarType.Byte => "U8",
                    ScalarType.Bool => "BOOL",
                    var other => throw new ArgumentException($"tensor '{name}' has dtype {other}, which safetensors cannot hold"),
                },
                ["shape"] = new JsonArray(tensor.shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + data.Length),
            };
            blobs.Add(data);
            offset += data.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        stream.Write(len);
        stream.Write(json);
        for (var i = json.Length; i < padded; i++)
        {
            stream.WriteByte((byte)' ');
        }
        foreach (var blob in blobs)
        {
            stream.Write(blob);
        }
    }
}
