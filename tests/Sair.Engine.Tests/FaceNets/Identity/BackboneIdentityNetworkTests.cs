using Sair.Engine.FaceNets.Identity;
using static Sair.Engine.Tests.FaceNets.Identity.ArcFaceFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets.Identity;

/// <summary>The <see cref="IIdentityNetwork"/> face of the backbones: names, sizes and cosine similarity.</summary>
public sealed class BackboneIdentityNetworkTests
{
    [Fact]
    public void Similarity_is_the_cosine_of_each_row_pair()
    {
        using IIdentityNetwork net = Load(IdentityBackbone.IResNet50);
        using var scope = NewDisposeScope();
        var kind = IdentityBackbone.IResNet50;
        var a = cat([Npy(kind, "embedding_0.npy"), Npy(kind, "embedding_1.npy")], 0);
        var b = cat([Npy(kind, "embedding_2.npy"), Npy(kind, "embedding_1.npy")], 0);
        var similarity = net.Similarity(a, b).data<float>().ToArray();

        var rowsA = a.to(ScalarType.Float64).data<double>().ToArray();
        var rowsB = b.to(ScalarType.Float64).data<double>().ToArray();
        var e = net.EmbeddingSize;
        for (var row = 0; row < 2; row++)
        {
            double dot = 0, na = 0, nb = 0;
            for (var k = 0; k < e; k++)
            {
                var (x, y) = (rowsA[row * e + k], rowsB[row * e + k]);
                dot += x * y;
                na += x * x;
                nb += y * y;
            }
            Assert.Equal(dot / Math.Sqrt(na * nb), similarity[row], 1e-6);
        }
        Assert.Equal(1.0, similarity[1], 1e-6);
    }

    [Theory]
    [InlineData(IdentityBackbone.IResNet50, 64, "IResNet-50")]
    [InlineData(IdentityBackbone.IrSe50, 128, "IR-SE50")]
    public void Loaded_networks_say_what_they_are(IdentityBackbone kind, int embeddingSize, string name)
    {
        using var net = Load(kind);
        Assert.Equal(embeddingSize, net.EmbeddingSize);
        Assert.Contains(name, net.Name, StringComparison.Ordinal);
        Assert.IsType(kind == IdentityBackbone.IResNet50 ? typeof(SairIResNetPreprocessing) : typeof(PspIrSePreprocessing), net.Preprocessing);
    }

    [Fact]
    public void Similarity_refuses_mismatched_embeddings()
    {
        using var net = Load(IdentityBackbone.IrSe50);
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => net.Similarity(zeros(2, 128), zeros(3, 128)));
        Assert.Throws<ArgumentException>(() => net.Similarity(zeros(2, 64), zeros(2, 64)));
    }
}
