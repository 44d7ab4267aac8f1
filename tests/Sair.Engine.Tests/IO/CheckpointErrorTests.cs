using Sair.Engine.IO;

namespace Sair.Engine.Tests.IO;

/// <summary>Bad inputs give a CheckpointException that names the file and says what is wrong.</summary>
public sealed class CheckpointErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sair-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private CheckpointException OpenFails(string path, string expected)
    {
        var error = Assert.Throws<CheckpointException>(() => WeightsFile.Open(path).Dispose());
        Assert.Equal(path, error.FilePath);
        Assert.StartsWith(path, error.Message);
        Assert.Contains(expected, error.Problem);
        return error;
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Zip(string name, byte[] pickle, Dictionary<string, float[]>? storages = null, string byteOrder = "little")
    {
        var path = Path.Combine(_dir, name);
        PickleBuilder.WriteTorchZip(path, "archive", pickle, storages ?? [], byteOrder: byteOrder);
        return path;
    }

    private static byte[] OneTensorPickle() =>
        new PickleBuilder().Proto(2).Tensor("0", 4, 0, [4], [1]).Op((byte)'.').ToArray();

    [Fact]
    public void Missing_file_and_folder()
    {
        OpenFails(Path.Combine(_dir, "nope.pt"), "no such weights file");
        OpenFails(_dir, "is a folder");
    }

    [Fact]
    public void Png_and_text_renamed_pt_are_not_checkpoints()
    {
        var png = Write("face.pt", File.ReadAllBytes(RepoPaths.SharedFile("fixtures", "sair-official", "obama.png")));
        OpenFails(png, "PNG image");
        OpenFails(Write("notes.pt", "g_ema: weights go here\n"u8.ToArray()), "text file");
        OpenFails(Write("empty.pt", []), "empty");
    }

    [Fact]
    public void Truncated_checkpoint_says_so()
    {
        var whole = File.ReadAllBytes(RepoPaths.SharedFile("fixtures", "stylegan2", "s16_sd32_m2_cm1_div16", "s16_sd32_m2_cm1_div16.pt"));
        OpenFails(Write("half.pt", whole[..(whole.Length / 2)]), "truncated");
    }

    [Fact]
    public void Legacy_non_zip_torch_file_asks_for_a_resave()
    {
        // What torch < 1.6 wrote first: pickle protocol 2 and the LONG1 magic number 0x1950a86a20f9469cfc6c.
        byte[] legacy = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 0x02];
        var error = OpenFails(Write("old.pt", legacy), "legacy");
        Assert.Contains("torch >= 1.6", error.Problem);
        Assert.Contains("safetensors", error.Problem);

        // torch < 0.4 wrote a tar archive.
        var tar = new byte[1024];
        "ustar"u8.CopyTo(tar.AsSpan(257));
        OpenFails(Write("older.pt", tar), "legacy");
    }

    [Fact]
    public void Absurdly_nested_object_graph_is_refused_instead_of_overflowing_the_stack()
    {
        var p = new PickleBuilder().Proto(2);
        for (var i = 0; i < 5000; i++)
        {
            p.Op((byte)']');
        }
        for (var i = 1; i < 5000; i++)
        {
            p.Op((byte)'a');
        }
        OpenFails(Zip("deep.pt", p.Op((byte)'.').ToArray()), "nested more than");
    }

    [Fact]
    public void Missing_data_record_is_named()
    {
        OpenFails(Zip("nodata.pt", OneTensorPickle()), "'archive/data/0' is missing");
    }

    [Fact]
    public void Short_data_record_is_refused()
    {
        OpenFails(Zip("short.pt", OneTensorPickle(), new() { ["0"] = [1f, 2f] }), "need 16");
    }

    [Fact]
    public void View_past_the_end_of_its_storage_is_refused()
    {
        var pickle = new PickleBuilder().Proto(2).Tensor("0", 4, 2, [2, 2], [2, 1]).Op((byte)'.').ToArray();
        OpenFails(Zip("past.pt", pickle, new() { ["0"] = [1f, 2f, 3f, 4f] }), "holds only 4");
    }

    [Fact]
    public void Zip_without_a_pickle_is_not_a_torch_checkpoint()
    {
        var path = Path.Combine(_dir, "other.pt");
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
        {
            zip.CreateEntry("readme.txt");
        }
        OpenFails(path, "not a torch checkpoint");
    }

    [Fact]
    public void Big_endian_checkpoint_is_refused()
    {
        OpenFails(Zip("big.pt", OneTensorPickle(), new() { ["0"] = [1f, 2f, 3f, 4f] }, byteOrder: "big"), "'big' byte order");
    }

    [Fact]
    public void Unsupported_opcode_and_tensor_class_are_named()
    {
        OpenFails(Zip("ext.pt", new PickleBuilder().Proto(2).Op(0x82).Op(1).Op((byte)'.').ToArray()), "unsupported pickle opcode 0x82");
        var quantized = new PickleBuilder().Proto(2).Global("torch._utils", "_rebuild_qtensor").Op((byte)')').Op((byte)'R').Op((byte)'.').ToArray();
        OpenFails(Zip("q.pt", quantized), "unsupported class torch._utils._rebuild_qtensor");
        var complex = new PickleBuilder().Proto(2).Tensor("0", 4, 0, [4], [1], storageType: "ComplexFloatStorage").Op((byte)'.').ToArray();
        OpenFails(Zip("c.pt", complex, new() { ["0"] = [1f, 2f, 3f, 4f] }), "unsupported class torch.ComplexFloatStorage");
    }

    [Fact]
    public void Truncated_pickle_is_refused()
    {
        var pickle = OneTensorPickle();
        OpenFails(Zip("cut.pt", pickle[..^5], new() { ["0"] = [1f, 2f, 3f, 4f] }), "truncated");
    }
}
