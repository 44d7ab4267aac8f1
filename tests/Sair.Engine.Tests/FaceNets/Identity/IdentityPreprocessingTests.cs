using Sair.Engine.FaceNets.Identity;
using static Sair.Engine.Tests.FaceNets.Identity.ArcFaceFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets.Identity;

/// <summary>The two input paths: against the SAIR code's own output (sair-ops idpre_*) and an independent pooling loop.</summary>
public sealed class IdentityPreprocessingTests
{
    private static Tensor SairOps(string file) => Sair.Engine.IO.Npy.Read(RepoPaths.SharedFile("fixtures", "sair-ops", file));

    private static void AssertWithin(Tensor reference, Tensor actual, double atol, string what)
    {
        Assert.True(reference.shape.SequenceEqual(actual.shape),
            $"{what}: shape ({string.Join(", ", actual.shape)}) instead of ({string.Join(", ", reference.shape)})");
        using var scope = NewDisposeScope();
        var error = (actual.detach().to(ScalarType.Float64) - reference.to(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(error <= atol, $"{what}: max |x − ref| = {error:G4} > {atol:G4}");
    }

    [Theory]
    [InlineData(1024, 100, 900)]
    [InlineData(512, 50, 450)]
    [InlineData(256, 25, 225)]
    public void Sair_crop_is_rows_and_columns_100_to_900_of_1024_scaled_to_the_size(int size, long start, long end)
    {
        Assert.Equal((start, end), SairIResNetPreprocessing.CropSpan(size));
    }

    [Fact]
    public void Sair_preprocessing_of_a_1024_image_matches_the_official_code_in_value_and_gradient()
    {
        using var scope = NewDisposeScope();
        // The idpre_* oracle ran identity_L1loss.py's preprocessing on bicubic_f32_input (see the sair-ops manifest).
        var image = SairOps("bicubic_f32_input.npy").requires_grad_();
        var output = SairIResNetPreprocessing.Instance.Apply(image);
        AssertWithin(SairOps("idpre_output.npy"), output, 1e-4, "idpre_output");

        output.mul(SairOps("idpre_G.npy")).sum().backward();
        var rows = SairOps("idpre_grad_rows.npy");
        var cols = SairOps("idpre_grad_cols.npy");
        var grad = image.grad!;
        AssertWithin(SairOps("idpre_grad_block.npy"), grad.index_select(2, rows).index_select(3, cols), 2e-3, "idpre_grad_block");

        var inBlock = zeros(1024, 1024, dtype: ScalarType.Bool);
        inBlock.index_put_(ones(rows.shape[0], cols.shape[0], dtype: ScalarType.Bool), rows.unsqueeze(1), cols.unsqueeze(0));
        Assert.Equal(0.0, grad.masked_fill(inBlock, 0).abs().max().item<float>());
    }

    [Fact]
    public void Psp_preprocessing_of_a_256_image_is_the_crop_average_pooled_to_112_in_minus_one_to_one()
    {
        using var scope = NewDisposeScope();
        var image = rand([2, 3, 256, 256], generator: new TorchSharp.torch.Generator(7));
        AssertWithin(ReferencePsp(image), PspIrSePreprocessing.Instance.Apply(image), 1e-6, "pSp 256");
    }

    [Fact]
    public void Psp_preprocessing_of_a_1024_image_first_averages_it_down_to_256()
    {
        using var scope = NewDisposeScope();
        var image = rand([1, 3, 1024, 1024], generator: new TorchSharp.torch.Generator(8));
        var blockMeans = image.view(1, 3, 256, 4, 256, 4).mean([3, 5]);
        AssertWithin(ReferencePsp(blockMeans), PspIrSePreprocessing.Instance.Apply(image), 1e-6, "pSp 1024");
    }

    [Fact]
    public void Embed_is_the_backbone_on_the_preprocessed_image_and_its_gradient_reaches_only_the_crop()
    {
        using var net = Load(IdentityBackbone.IrSe50);
        using var scope = NewDisposeScope();
        var image = rand([1, 3, 256, 256], generator: new TorchSharp.torch.Generator(9)).requires_grad_();
        var embedding = net.Embed(image);
        using (no_grad())
        {
            AssertClose(net.Backbone.forward(ReferencePsp(image.detach())), embedding, "Embed");
        }
        embedding.sum().backward();
        var grad = image.grad!.abs().sum([0, 1]);
        Assert.True(grad.narrow(0, 35, 188).narrow(1, 32, 188).min().item<float>() > 0, "every cropped pixel should get a gradient");
        AssertZeroOutside(grad, 35, 32, 188);
    }

    [Fact]
    public void Embed_of_a_1024_image_through_IResNet50_gives_gradients_only_inside_rows_and_columns_100_to_900()
    {
        using var net = Load(IdentityBackbone.IResNet50);
        using var scope = NewDisposeScope();
        var image = rand([1, 3, 1024, 1024], generator: new TorchSharp.torch.Generator(10)).requires_grad_();
        var embedding = net.Embed(image);
        Assert.Equal([1L, net.EmbeddingSize], embedding.shape);
        embedding.sum().backward();
        var grad = image.grad!.abs().sum([0, 1]);
        Assert.True(grad.narrow(0, 100, 800).narrow(1, 100, 800).sum().item<float>() > 0);
        AssertZeroOutside(grad, 100, 100, 800);
    }

    [Fact]
    public void Images_that_are_not_rgb_batches_are_refused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => SairIResNetPreprocessing.Instance.Apply(zeros(3, 64, 64)));
        Assert.Throws<ArgumentException>(() => PspIrSePreprocessing.Instance.Apply(zeros(1, 1, 256, 256)));
    }

    private static void AssertZeroOutside(Tensor grad, long top, long left, long size)
    {
        var outside = grad.clone();
        outside.narrow(0, top, size).narrow(1, left, size).zero_();
        Assert.Equal(0f, outside.max().item<float>());
    }

    /// <summary>pSp's path on a 256 image written out as loops: crop 35:223 × 32:220, adaptive-average bins, 2x − 1.</summary>
    private static Tensor ReferencePsp(Tensor image256)
    {
        const int cropSize = 188, outSize = 112, side = 256;
        var batch = (int)image256.shape[0];
        var pixels = image256.contiguous().data<float>().ToArray();
        var result = new float[batch * 3 * outSize * outSize];
        static (int Start, int End) Bin(int i) => (i * cropSize / outSize, ((i + 1) * cropSize + outSize - 1) / outSize);
        for (var plane = 0; plane < batch * 3; plane++)
        {
            for (var i = 0; i < outSize; i++)
            {
                var (r0, r1) = Bin(i);
                for (var j = 0; j < outSize; j++)
                {
                    var (c0, c1) = Bin(j);
                    double sum = 0;
                    for (var r = r0; r < r1; r++)
                    {
                        for (var c = c0; c < c1; c++)
                        {
                            sum += pixels[plane * side * side + (35 + r) * side + 32 + c];
                        }
                    }
                    result[(plane * outSize + i) * outSize + j] = (float)(2 * sum / ((r1 - r0) * (c1 - c0)) - 1);
                }
            }
        }
        return tensor(result).view(batch, 3, outSize, outSize);
    }
}
