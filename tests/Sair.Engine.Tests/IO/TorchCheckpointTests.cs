using System.IO.Compression;
using System.Numerics;
using Sair.Engine.IO;
using TorchSharp;

namespace Sair.Engine.Tests.IO;

/// <summary>Checkpoints built byte by byte: a training checkpoint as rosinality's train.py saves it, and the
/// protocol 4/5 opcodes newer Pythons write.</summary>
public sealed class TorchCheckpointTests : IDisposable
{
    private static readonly float[] Storage0 = [0f, 1.5f, 3f, 4.5f, 6f, 7.5f];
    private static readonly float[] Storage1 = [10f, 11f, 12f, 13f, 14f, 15f];

    private readonly string _dir = Directory.CreateTempSubdirectory("sair-torch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>{'g': {...}, 'g_ema': OrderedDict + _metadata, 'args': argparse.Namespace, 'ada_aug_p': 0.5, 'iter': -5}.</summary>
    private static byte[] TrainingPickle()
    {
        var p = new PickleBuilder().Proto(2);
        p.Op((byte)'}').Put(0).Mark();

        p.Str("g").Op((byte)'}').Put(1).Str("w").Tensor("0", 6, 0, [2, 3], [3, 1]).Op((byte)'s');

        p.Str("g_ema").Global("collections", "OrderedDict").Put(2).Op((byte)')').Op((byte)'R').Put(3);
        p.Mark()
            .Str("w").Tensor("0", 6, 0, [2, 3], [3, 1])
            .Str("wt").Tensor("0", 6, 0, [3, 2], [1, 3])
            .Str("odd").Tensor("1", 6, 1, [3], [2], location: "cuda:0")
            .Op((byte)'u');
        // BUILD with {'_metadata': OrderedDict({'': {'version': 1}})}, as a state_dict pickles.
        p.Op((byte)'}').Str("_metadata").Get(2).Op((byte)')').Op((byte)'R')
            .Str("").Op((byte)'}').Str("version").Int(1).Op((byte)'s')
            .Op((byte)'s').Op((byte)'s').Op((byte)'b');

        p.Str("args").Global("argparse", "Namespace").Op((byte)')').Op(0x81)
            .Op((byte)'}').Mark().Str("size").Int(256).Str("lr").Float(0.002).Str("name").Str("ffhq").Op((byte)'u')
            .Op((byte)'b');
        p.Str("ada_aug_p").Float(0.5);
        p.Str("iter").Op(0x8a).Op(1).Op(0xfb); // LONG1 -5
        return p.Op((byte)'u').Op((byte)'.').ToArray();
    }

    [Fact]
    public void Training_checkpoint_loads_with_args_floats_metadata_and_strided_views()
    {
        // The prefix differs from the file name, and data.pkl is deflated: both happen with real files.
        var path = Path.Combine(_dir, "checkpoint_010000.pt");
        PickleBuilder.WriteTorchZip(path, "archive", TrainingPickle(),
            new Dictionary<string, float[]> { ["0"] = Storage0, ["1"] = Storage1 }, CompressionLevel.Optimal);

        using var file = WeightsFile.Open(path);
        Assert.Equal(["g.w", "g_ema.w", "g_ema.wt", "g_ema.odd"], file.Tensors.Select(t => t.Key));
        Assert.Equal(Storage0, file["g.w"].data<float>().ToArray());
        Assert.Equal(new long[] { 2, 3 }, file["g.w"].shape);

        // A transposed view of the same storage, and a strided view at an offset into a 'cuda:0' storage.
        var wt = file["g_ema.wt"];
        Assert.Equal(new long[] { 3, 2 }, wt.shape);
        Assert.Equal(new[] { 0f, 4.5f, 1.5f, 6f, 3f, 7.5f }, wt.contiguous().data<float>().ToArray());
        Assert.Equal(new[] { 11f, 13f, 15f }, file["g_ema.odd"].contiguous().data<float>().ToArray());
        Assert.Equal(DeviceType.CPU, file["g_ema.odd"].device_type);

        var root = Assert.IsType<PickleDict>(file.Root);
        var args = Assert.IsType<PickleObject>(root["args"]);
        Assert.Equal("argparse.Namespace", args.ClassName);
        Assert.Equal(256L, args.Attribute("size"));
        Assert.Equal(0.002, args.Attribute("lr"));
        Assert.Equal("ffhq", args.Attribute("name"));
        Assert.Equal(0.5, root["ada_aug_p"]);
        Assert.Equal(-5L, root["iter"]);
        var gEma = Assert.IsType<PickleDict>(root["g_ema"]);
        Assert.Equal(3, gEma.Count);
        var metadata = Assert.IsType<PickleDict>(gEma.Attributes["_metadata"]);
        Assert.Equal(1L, Assert.IsType<PickleDict>(metadata[""])["version"]);
    }

    [Fact]
    public void Protocol_4_and_5_opcodes_and_unknown_classes_are_read_without_running_anything()
    {
        var p = new PickleBuilder().Proto(4);
        p.Op(0x95).Raw(new byte[8]); // FRAME (its length is not checked)
        p.Op((byte)']').Op(0x94); // EMPTY_LIST, MEMOIZE → memo 0
        p.Mark();
        p.ShortStr("numpy.core.multiarray").Op(0x94).ShortStr("scalar").Op(0x94).Op(0x93).Op(0x94); // STACK_GLOBAL
        p.ShortStr("numpy").ShortStr("dtype").Op(0x93).ShortStr("f8").Op(0x89).Op(0x88).Op(0x87).Op((byte)'R') // dtype('f8', False, True)
            .Mark().Int(3).ShortStr("<").Op((byte)'N').Op((byte)'N').Op((byte)'N').Int(-1).Int(-1).Int(0).Op((byte)'t').Op((byte)'b');
        p.Op((byte)'C').Op(8).Raw(BitConverter.GetBytes(0.25)).Op(0x86).Op((byte)'R'); // scalar(dtype, bytes) → 0.25
        p.ShortStr("os").ShortStr("system").Op(0x93).ShortStr("rm -rf /").Op(0x85).Op((byte)'R'); // inert, never run
        p.Op(0x8d).Raw(BitConverter.GetBytes(3L)).Raw("W+ "u8); // BINUNICODE8
        p.Op(0x8a).Op(9).Raw([0, 0, 0, 0, 0, 0, 0, 0, 1]); // LONG1 2^64
        p.Op((byte)'r').Raw(BitConverter.GetBytes(300)); // LONG_BINPUT 300
        p.Op((byte)'j').Raw(BitConverter.GetBytes(300)); // LONG_BINGET 300
        p.Op((byte)'N').Op((byte)'e'); // APPENDS
        p.Op((byte)'.');

        var unpickler = new Unpickler(p.ToArray(), "test.pkl", _ => throw new InvalidOperationException("no storages here"));
        var list = Assert.IsType<List<object?>>(unpickler.Load());
        Assert.Equal(6, list.Count);
        Assert.Equal(0.25, list[0]);
        var command = Assert.IsType<PickleObject>(list[1]);
        Assert.Equal("os.system", command.ClassName);
        Assert.Equal(["rm -rf /"], command.Args);
        Assert.Equal("W+ ", list[2]);
        Assert.Equal(BigInteger.One << 64, list[3]);
        Assert.Equal(list[3], list[4]);
        Assert.Null(list[5]);
        Assert.Empty(unpickler.Tensors);
    }
}
