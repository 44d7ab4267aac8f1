using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.IO;

public sealed class NpySafetensorsTests
{
    private const string Config = "s16_sd32_m2_cm1_div16";

    [Fact]
    public void Fixture_npy_and_safetensors_hold_the_same_latent_avg()
    {
        var dir = RepoPaths.SharedFile("fixtures", "stylegan2", Config);
        using var fromNpy = Npy.Read(Path.Combine(dir, "latent_avg.npy"));
        var (tensors, metadata) = Safetensors.Read(Path.Combine(dir, Config + ".safetensors"));
        try
        {
            Assert.Equal("pt", metadata["format"]);
            Assert.Equal("g_ema.style.1.weight", tensors[0].Key);
            var avg = tensors.Single(t => t.Key == "latent_avg").Value;
            Assert.Equal(new long[] { 32 }, fromNpy.shape);
            Assert.Equal(ScalarType.Float32, fromNpy.dtype);
            Assert.Equal(fromNpy.data<float>().ToArray(), avg.data<float>().ToArray());
            Assert.NotEqual(0f, fromNpy.abs().sum().item<float>());
        }
        finally
        {
            foreach (var t in tensors)
            {
                t.Value.Dispose();
            }
        }
    }

    [Fact]
    public void Npy_and_safetensors_round_trip_values_shapes_and_order()
    {
        var dir = Directory.CreateTempSubdirectory("sair-io-").FullName;
        try
        {
            using var a = arange(24, dtype: ScalarType.Float32).reshape(2, 3, 4) / 7;
            using var b = tensor(new double[] { 1.5, -2.25 });
            Npy.Write(Path.Combine(dir, "a.npy"), a);
            using var a2 = Npy.Read(Path.Combine(dir, "a.npy"));
            Assert.Equal(a.shape, a2.shape);
            Assert.Equal(a.data<float>().ToArray(), a2.data<float>().ToArray());

            Safetensors.Write(Path.Combine(dir, "x.safetensors"), [new("z", a), new("a", b)], new Dictionary<string, string> { ["format"] = "pt" });
            var (read, meta) = Safetensors.Read(Path.Combine(dir, "x.safetensors"));
            Assert.Equal(["z", "a"], read.Select(r => r.Key));
            Assert.Equal(ScalarType.Float64, read[1].Value.dtype);
            Assert.Equal(new[] { 1.5, -2.25 }, read[1].Value.data<double>().ToArray());
            Assert.Equal("pt", meta["format"]);
            Assert.Empty(Directory.GetFiles(dir, "*.partial", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Truncated_and_foreign_files_give_errors_naming_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("sair-io-").FullName;
        try
        {
            var src = RepoPaths.SharedFile("fixtures", "stylegan2", Config, Config + ".safetensors");
            var bytes = File.ReadAllBytes(src);
            var cut = Path.Combine(dir, "cut.safetensors");
            File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
            var e = Assert.Throws<CheckpointException>(() => Safetensors.Read(cut));
            Assert.Contains("cut.safetensors", e.Message);
            Assert.Contains("truncated", e.Message);

            var text = Path.Combine(dir, "notes.npy");
            File.WriteAllText(text, "hello, this is not an array");
            Assert.Contains("not a NumPy", Assert.Throws<CheckpointException>(() => Npy.Read(text)).Message);

            var missing = Path.Combine(dir, "missing.npy");
            Assert.Contains("no such", Assert.Throws<CheckpointException>(() => Npy.Read(missing)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
