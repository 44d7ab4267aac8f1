using System.Text.Json.Nodes;
using Sair.Engine.FaceNets.Tfjs;
using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets.Tfjs;

public sealed class TfjsWeightsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sair-tfjs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Decodes_float32_uint8_uint16_float16_and_int32_across_shards()
    {
        // Weights laid end to end over two shards; "q8" straddles the shard boundary.
        var bytes = new List<byte>();
        bytes.AddRange(Floats(1.5f, -2.25f, 3e-8f, float.MaxValue));              // f32 [2, 2]
        bytes.AddRange(new byte[] { 0, 1, 255 });                                    // q8 [3]: q·0.5 − 1
        bytes.AddRange(Halves(0x3C00, 0xC000, 0x3555, 0x0001));                    // f16q [4] (float16 quantisation)
        bytes.AddRange(Halves(0x7BFF, 0x8400));                                      // f16 [2] (stored dtype float16)
        bytes.AddRange(BitConverter.GetBytes((ushort)1000));                         // q16 [1]: q·0.001 + 2
        bytes.AddRange(BitConverter.GetBytes(-7));                                   // i32 [1]
        var split = 17;
        File.WriteAllBytes(Path.Combine(_dir, "m.shard1"), bytes.Take(split).ToArray());
        File.WriteAllBytes(Path.Combine(_dir, "m.shard2"), bytes.Skip(split).ToArray());
        var manifest = WriteManifest(["m.shard1", "m.shard2"],
            Spec("f32", [2, 2], "float32"),
            Spec("q8", [3], "float32", new JsonObject { ["dtype"] = "uint8", ["scale"] = 0.5, ["min"] = -1.0 }),
            Spec("f16q", [4], "float32", new JsonObject { ["dtype"] = "float16", ["original_dtype"] = "float32" }),
            Spec("f16", [2], "float16"),
            Spec("q16", [1], "float32", new JsonObject { ["dtype"] = "uint16", ["scale"] = 0.001, ["min"] = 2.0 }),
            Spec("i32", [1], "int32"));

        using var map = TfjsWeights.LoadManifest(manifest);

        Assert.Equal(["f32", "q8", "f16q", "f16", "q16", "i32"], map.Names);
        Assert.Equal(new long[] { 2, 2 }, map.Get("f32").shape);
        Assert.Equal(new[] { 1.5f, -2.25f, 3e-8f, float.MaxValue }, map.Get("f32").data<float>().ToArray());
        Assert.Equal(new[] { -1f, -0.5f, 126.5f }, map.Get("q8").data<float>().ToArray());
        Assert.Equal(new[] { 1f, -2f, 0.333251953125f, 5.9604645e-8f }, map.Get("f16q").data<float>().ToArray());
        Assert.Equal(new[] { 65504f, -6.1035156e-5f }, map.Get("f16").data<float>().ToArray());
        Assert.Equal(ScalarType.Float32, map.Get("f16").dtype);
        Assert.Equal(3f, map.Get("q16").data<float>()[0]);
        Assert.Equal(ScalarType.Int32, map.Get("i32").dtype);
        Assert.Equal(-7, map.Get("i32").data<int>()[0]);
    }

    [Fact]
    public void A_truncated_shard_is_named_in_the_error()
    {
        File.WriteAllBytes(Path.Combine(_dir, "t.bin"), Floats(1, 2, 3));
        var manifest = WriteManifest(["t.bin"], Spec("w", [2, 2], "float32"));

        var e = Assert.Throws<CheckpointException>(() => TfjsWeights.LoadManifest(manifest));

        Assert.Equal(Path.Combine(_dir, "t.bin"), e.FilePath);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void Surplus_shard_bytes_are_a_mismatch()
    {
        File.WriteAllBytes(Path.Combine(_dir, "a.bin"), Floats(1, 2));
        File.WriteAllBytes(Path.Combine(_dir, "b.bin"), Floats(3, 4, 5));
        var manifest = WriteManifest(["a.bin", "b.bin"], Spec("w", [4], "float32"));

        var e = Assert.Throws<CheckpointException>(() => TfjsWeights.LoadManifest(manifest));

        Assert.Equal(Path.Combine(_dir, "b.bin"), e.FilePath);
        Assert.Contains("20 bytes", e.Message);
        Assert.Contains("16", e.Message);
    }

    [Fact]
    public void A_missing_shard_and_an_unknown_dtype_are_clear_errors()
    {
        var missing = WriteManifest(["nowhere.bin"], Spec("w", [1], "float32"));
        var e = Assert.Throws<CheckpointException>(() => TfjsWeights.LoadManifest(missing));
        Assert.Equal(Path.Combine(_dir, "nowhere.bin"), e.FilePath);

        File.WriteAllBytes(Path.Combine(_dir, "s.bin"), new byte[8]);
        var complex = WriteManifest(["s.bin"], Spec("c", [1], "complex64"));
        var e2 = Assert.Throws<CheckpointException>(() => TfjsWeights.LoadManifest(complex));
        Assert.Contains("complex64", e2.Message);
    }

    [Fact]
    public void Graph_model_runs_same_padded_strided_conv_relu6_and_mean()
    {
        // 3×3 input 1..9, 2×2 ones filter, stride 2, "SAME": TF pads one row and column at the bottom/right only,
        // so the four windows sum {1,2,4,5}, {3,6}, {7,8}, {9} = 12, 9, 15, 9 (checked against tfjs 4.22).
        File.WriteAllBytes(Path.Combine(_dir, "g.bin"), [.. Floats(1, 1, 1, 1), .. BitConverter.GetBytes(1), .. BitConverter.GetBytes(2), .. Floats(10)]);
        var model = new JsonObject
        {
            ["format"] = "graph-model",
            ["modelTopology"] = new JsonObject
            {
                ["node"] = new JsonArray(
                    Node("x", "Placeholder"),
                    Node("k", "Const"),
                    Node("axes", "Const"),
                    Node("cap", "Const"),
                    Node("conv", "Conv2D", ["x", "k"], new JsonObject
                    {
                        ["strides"] = new JsonObject { ["list"] = new JsonObject { ["i"] = new JsonArray("1", "2", "2", "1") } },
                        ["padding"] = new JsonObject { ["s"] = Convert.ToBase64String("SAME"u8.ToArray()) },
                    }),
                    Node("capped", "Minimum", ["conv", "cap:0"]),
                    Node("mean", "Mean", ["capped", "axes"], new JsonObject { ["keep_dims"] = new JsonObject { ["b"] = false } })),
            },
            ["weightsManifest"] = new JsonArray(new JsonObject
            {
                ["paths"] = new JsonArray("g.bin"),
                ["weights"] = new JsonArray(Spec("k", [2, 2, 1, 1], "float32"), Spec("axes", [2], "int32"), Spec("cap", [], "float32")),
            }),
        };
        var path = Path.Combine(_dir, "model.json");
        File.WriteAllText(path, model.ToJsonString());

        using var graph = TfjsGraphModel.Load(path);
        using var net = new TfjsGraphNet(graph);
        using var input = arange(1, 10, dtype: ScalarType.Float32).reshape(1, 3, 3, 1);
        var outputs = net.Run(input, "conv", "mean");

        Assert.Equal(new long[] { 1, 2, 2, 1 }, outputs[0].shape);
        Assert.Equal(new[] { 12f, 9f, 15f, 9f }, outputs[0].data<float>().ToArray());
        Assert.Equal((10 + 9 + 10 + 9) / 4f, outputs[1].data<float>()[0]);
        foreach (var o in outputs)
        {
            o.Dispose();
        }
    }

    [Fact]
    public void Graph_model_names_an_unsupported_op()
    {
        File.WriteAllBytes(Path.Combine(_dir, "e.bin"), []);
        var model = new JsonObject
        {
            ["modelTopology"] = new JsonObject { ["node"] = new JsonArray(Node("x", "Placeholder"), Node("y", "Cumprod", ["x"])) },
            ["weightsManifest"] = new JsonArray(new JsonObject { ["paths"] = new JsonArray("e.bin"), ["weights"] = new JsonArray() }),
        };
        var path = Path.Combine(_dir, "model.json");
        File.WriteAllText(path, model.ToJsonString());
        using var graph = TfjsGraphModel.Load(path);
        using var net = new TfjsGraphNet(graph);
        using var input = ones(1, 2, 2, 1);

        var e = Assert.Throws<NotSupportedException>(() => net.Run(input, "y"));

        Assert.Contains("'Cumprod'", e.Message);
        Assert.Contains("'y'", e.Message);
    }

    [Fact]
    public void A_weights_manifest_is_not_a_graph_model()
    {
        var manifest = WriteManifest([], []);
        var e = Assert.Throws<CheckpointException>(() => TfjsGraphModel.Load(manifest));
        Assert.Contains("modelTopology", e.Message);
    }

    private string WriteManifest(string[] paths, params JsonObject[] weights)
    {
        var group = new JsonObject
        {
            ["paths"] = new JsonArray(paths.Select(p => (JsonNode)p).ToArray()),
            ["weights"] = new JsonArray(weights.Cast<JsonNode>().ToArray()),
        };
        var path = Path.Combine(_dir, "test-weights_manifest.json");
        File.WriteAllText(path, new JsonArray(group).ToJsonString());
        return path;
    }

    private static JsonObject Spec(string name, long[] shape, string dtype, JsonObject? quantization = null)
    {
        var spec = new JsonObject
        {
            ["name"] = name,
            ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
            ["dtype"] = dtype,
        };
        if (quantization is not null)
        {
            spec["quantization"] = quantization;
        }
        return spec;
    }

    private static JsonObject Node(string name, string op, string[]? inputs = null, JsonObject? attr = null) => new()
    {
        ["name"] = name,
        ["op"] = op,
        ["input"] = new JsonArray((inputs ?? []).Select(i => (JsonNode)i).ToArray()),
        ["attr"] = attr ?? [],
    };

    private static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    private static byte[] Halves(params ushort[] bits) => bits.SelectMany(BitConverter.GetBytes).ToArray();
}
