using Sair.Engine.IO;
using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

public sealed class ReferenceInversionTests
{
    [Fact]
    public void Projection_moves_from_the_mean_toward_the_photo_and_raises_identity()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var identity = new TinyIdentityNetwork();
        var photo = TinySair.Render(g, TinySair.RandomWPlus(g, seed: 81));
        var options = new ProjectionOptions { Iterations = 40, MeanLatentSamples = 256, PixelSide = 32 };

        using var inversion = ReferenceInversion.Project(g, photo, options, identity);

        var mean = TinySair.Render(g, TinySair.MeanWPlus(g));
        var projected = TinySair.Render(g, inversion.Latent);
        Assert.True(TinySair.Psnr(projected, photo) > TinySair.Psnr(mean, photo) + 2);
        var before = identity.Similarity(identity.Embed(mean), identity.Embed(photo)).item<float>();
        Assert.True(inversion.IdentitySimilarity > before, $"identity {before} → {inversion.IdentitySimilarity}");
        Assert.Equal(40, inversion.Iterations);
    }

    [Fact]
    public void Inversion_round_trips_through_bytes_and_files()
    {
        using var latent = randn(1, 10, 32);
        using var inversion = new ReferenceInversion(latent.clone(), 200, 0.0125, 0.75);
        using var fromBytes = ReferenceInversion.FromBytes(inversion.ToBytes());
        Assert.True(fromBytes.Latent.allclose(latent, 0, 0));
        Assert.Equal((200, 0.0125, (double?)0.75), (fromBytes.Iterations, fromBytes.PixelLoss, fromBytes.IdentitySimilarity));

        var path = Path.Combine(Path.GetTempPath(), $"sair-ref-{Guid.NewGuid():N}.safetensors");
        try
        {
            inversion.Save(path);
            using var loaded = ReferenceInversion.Load(path);
            Assert.True(loaded.Latent.allclose(latent, 0, 0));
            using var asLatentFile = LatentFile.Load(path);
            Assert.True(asLatentFile.allclose(latent, 0, 0));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Other_safetensors_are_not_taken_for_an_inversion()
    {
        using var t = zeros(1, 10, 32);
        var bytes = Safetensors.Serialize([new("latent", t)]);
        Assert.Throws<CheckpointException>(() => ReferenceInversion.FromBytes(bytes));
        Assert.Throws<CheckpointException>(() => RestorationCheckpoint.FromBytes(bytes));
        Assert.Throws<CheckpointException>(() => RestorationCheckpoint.FromBytes([1, 2, 3]));
    }
}
