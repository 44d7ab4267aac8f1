using System.Text.Json;
using System.Text.Json.Nodes;
using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets.Tfjs;

/// <summary>
/// Reads TensorFlow.js weights: a weights manifest (a JSON array of groups, each listing shard files and the
/// weights laid end to end across them) as written for weights-only models (<c>*-weights_manifest.json</c>) and
/// inside graph models (<c>model.json</c>'s <c>weightsManifest</c>). Stored dtypes float32, float16 and int32/bool;
/// affine quantisation uint8/uint16 (value = q·scale + min) and float16 quantisation decode to float32.
/// </summary>
internal static class TfjsWeights
{
    /// <summary>Reads a weights-only manifest and its shards (paths relative to the manifest).</summary>
    public static TfjsWeightMap LoadManifest(string manifestPath)
    {
        if (ReadJson(manifestPath, "tfjs weights manifest") is not JsonArray groups)
        {
            throw new CheckpointException(manifestPath, "is not a tfjs weights manifest (expected a JSON array of weight groups).");
        }
        return Decode(groups, manifestPath);
    }

    /// <summary>The JSON document at <paramref name="path"/>; a missing file or invalid JSON is a <see cref="CheckpointException"/> naming <paramref name="what"/>.</summary>
    internal static JsonNode? ReadJson(string path, string what)
    {
        CheckpointException.ThrowIfMissing(path, what);
        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Decodes the weight groups of <paramref name="describedBy"/>; shard paths are relative to its folder.</summary>
    internal static TfjsWeightMap Decode(JsonArray groups, string describedBy)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(describedBy)) ?? ".";
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var group in groups)
            {
                DecodeGroup(group as JsonObject ?? throw Malformed(describedBy, "a weight group is not an object"), folder, describedBy, tensors);
            }
        }
        catch
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
            throw;
        }
        return new TfjsWeightMap(describedBy, tensors);
    }

    private static void DecodeGroup(JsonObject group, string folder, string describedBy, Dictionary<string, Tensor> into)
    {
        var paths = (group["paths"] as JsonArray ?? throw Malformed(describedBy, "a weight group has no 'paths'"))
            .Select(p => Path.Combine(folder, p?.GetValue<string>() ?? throw Malformed(describedBy, "a shard path is null")))
            .ToArray();
        var specs = (group["weights"] as JsonArray ?? throw Malformed(describedBy, "a weight group has no 'weights'"))
            .Select(w => WeightSpec.Parse(w as JsonObject ?? throw Malformed(describedBy, "a weight entry is not an object"), describedBy))
            .ToArray();

        var shardEnds = new long[paths.Length];
        using var buffer = new MemoryStream();
        for (var i = 0; i < paths.Length; i++)
        {
            CheckpointException.ThrowIfMissing(paths[i], "tfjs weights shard");
            using (var shard = File.OpenRead(paths[i]))
            {
                shard.CopyTo(buffer);
            }
            shardEnds[i] = buffer.Length;
        }
        var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);

        long offset = 0;
        foreach (var spec in specs)
        {
            var size = spec.ByteSize;
            if (offset + size > bytes.Length)
            {
                throw new CheckpointException(paths[^1],
                    $"is truncated: the shards of this group hold {bytes.Length} bytes but weight '{spec.Name}' " +
                    $"needs bytes {offset}..{offset + size} ({describedBy} describes {specs.Sum(s => s.ByteSize)} bytes). Reinstall the models ({FaceModelLocator.InstallCommand}).");
            }
            if (into.ContainsKey(spec.Name))
            {
                throw Malformed(describedBy, $"weight '{spec.Name}' is listed twice");
            }
            into[spec.Name] = spec.Decode(bytes.Slice((int)offset, (int)size));
            offset += size;
        }
        if (offset != bytes.Length)
        {
            var shard = paths[Array.FindIndex(shardEnds, end => end > offset)];
            throw new CheckpointException(shard,
                $"does not match its manifest: the shards hold {bytes.Length} bytes but {describedBy} describes {offset} " +
                "(wrong or mixed-up shard files?).");
        }
    }

    private static CheckpointException Malformed(string path, string problem) =>
        new(path, $"is not a valid tfjs weights manifest: {problem}.");

    private sealed record WeightSpec(string Name, long[] Shape, string Dtype, string? QuantDtype, double Scale, double Min)
    {
        private long Count => Shape.Aggregate(1L, (a, b) => a * b);

        private string StoredDtype => QuantDtype ?? Dtype;

        public long ByteSize => Count * StoredDtype switch
        {
            "float32" or "int32" => 4,
            "float16" or "uint16" => 2,
            "uint8" or "bool" => 1,
            _ => throw new NotSupportedException($"tfjs weight '{Name}': dtype '{StoredDtype}' is not supported"),
        };

        public static WeightSpec Parse(JsonObject w, string describedBy)
        {
            var name = w["name"]?.GetValue<string>() ?? throw Malformed(describedBy, "a weight has no name");
            var shape = (w["shape"] as JsonArray ?? throw Malformed(describedBy, $"weight '{name}' has no shape"))
                .Select(d => d!.GetValue<long>()).ToArray();
            var dtype = w["dtype"]?.GetValue<string>() ?? throw Malformed(describedBy, $"weight '{name}' has no dtype");
            var quant = w["quantization"] as JsonObject;
            var quantDtype = quant?["dtype"]?.GetValue<string>();
            if (quantDtype is "uint8" or "uint16" && (quant!["scale"] is null || quant["min"] is null))
            {
                throw Malformed(describedBy, $"weight '{name}' is {quantDtype}-quantised without scale and min");
            }
            if (quantDtype is not (null or "uint8" or "uint16" or "float16"))
            {
                throw new CheckpointException(describedBy, $"weight '{name}': quantisation dtype '{quantDtype}' is not supported.");
            }
            var spec = new WeightSpec(name, shape, dtype, quantDtype,
                quant?["scale"]?.GetValue<double>() ?? 0, quant?["min"]?.GetValue<double>() ?? 0);
            if (spec.Dtype is not ("float32" or "float16" or "int32" or "bool"))
            {
                throw new CheckpointException(describedBy, $"weight '{name}': dtype '{dtype}' is not supported.");
            }
            return spec;
        }

        public Tensor Decode(ReadOnlySpan<byte> data)
        {
            switch (QuantDtype)
            {
                case "uint8":
                    return Dequantise(data, 1);
                case "uint16":
                    return Dequantise(data, 2);
                case "float16":
                    return FromHalves(data);
            }
            return Dtype switch
            {
                "float32" => TensorBytes.FromLittleEndian(data, ScalarType.Float32, Shape),
                "float16" => FromHalves(data),
                "int32" => TensorBytes.FromLittleEndian(data, ScalarType.Int32, Shape),
                _ => TensorBytes.FromLittleEndian(data, ScalarType.Bool, Shape),
            };
        }

        // The arithmetic is done in double and rounded once to float32, as tfjs does (JS numbers into a Float32Array).
        private Tensor Dequantise(ReadOnlySpan<byte> data, int width)
        {
            var values = new float[Count];
            var ints = Dtype == "int32" ? new int[Count] : null;
            for (var i = 0; i < values.Length; i++)
            {
                double q = width == 1 ? data[i] : BitConverter.ToUInt16(data.Slice(2 * i, 2));
                var v = q * Scale + Min;
                if (ints is not null)
                {
                    ints[i] = (int)Math.Floor(v + 0.5); // JavaScript's Math.round
                }
                values[i] = (float)v;
            }
            return ints is not null ? tensor(ints, Shape) : tensor(values, Shape);
        }

        private Tensor FromHalves(ReadOnlySpan<byte> data)
        {
            var values = new float[Count];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)BitConverter.ToHalf(data.Slice(2 * i, 2));
            }
            return tensor(values, Shape);
        }
    }
}
