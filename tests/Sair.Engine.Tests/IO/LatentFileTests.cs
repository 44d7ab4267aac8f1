using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.IO;

public sealed class LatentFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sair-latent-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Two_dimensional_npy_gets_a_batch_dimension_and_becomes_float32()
    {
        var path = Path.Combine(_dir, "w.npy");
        using var w = arange(6 * 4, dtype: ScalarType.Float64).reshape(6, 4) / 3;
        Npy.Write(path, w);

        using var latent = LatentFile.Load(path, expectedLatents: 6, expectedStyleDim: 4);
        Assert.Equal(new long[] { 1, 6, 4 }, latent.shape);
        Assert.Equal(ScalarType.Float32, latent.dtype);
        using var expected = w.to_type(ScalarType.Float32).reshape(1, 6, 4);
        TensorAssert.Identical(expected, latent);
    }

    [Theory]
    [InlineData("w.npy")]
    [InlineData("w.safetensors")]
    public void Save_then_load_round_trips(string name)
    {
        var path = Path.Combine(_dir, name);
        using var w = randn(1, 6, 4);
        LatentFile.Save(path, w);
        using var back = LatentFile.Load(path);
        TensorAssert.Identical(w, back);
    }

    [Fact]
    public void Wrong_shapes_and_multi_tensor_files_are_refused_clearly()
    {
        var obama = RepoPaths.SharedFile("fixtures", "sair-official", "obama_latents.pt");
        var error = Assert.Throws<CheckpointException>(() => LatentFile.Load(obama, expectedLatents: 14));
        Assert.Contains("(1, 18, 512)", error.Problem);
        Assert.Contains("(1, 14, style_dim)", error.Problem);

        var flat = Path.Combine(_dir, "flat.npy");
        using (var v = zeros(512))
        {
            Npy.Write(flat, v);
        }
        Assert.Contains("(512)", Assert.Throws<CheckpointException>(() => LatentFile.Load(flat)).Problem);

        var batch = Path.Combine(_dir, "batch.npy");
        using (var b = zeros(2, 18, 512))
        {
            Npy.Write(batch, b);
        }
        Assert.Contains("one image per file", Assert.Throws<CheckpointException>(() => LatentFile.Load(batch)).Problem);

        var generator = RepoPaths.SharedFile("fixtures", "stylegan2", "s16_sd32_m2_cm1_div16", "s16_sd32_m2_cm1_div16.pt");
        Assert.Contains("holds 52 tensors", Assert.Throws<CheckpointException>(() => LatentFile.Load(generator)).Problem);

        using var z = zeros(1, 2, 2);
        Assert.Throws<ArgumentException>(() => LatentFile.Save(Path.Combine(_dir, "w.pt"), z));
    }
}
