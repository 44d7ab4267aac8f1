using Sair.Engine.Degradation;
using static Sair.Engine.Tests.SairOpsFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Degradation;

public sealed class DegradationOperatorTests
{
    [Fact]
    public void Stages_compose_in_the_papers_order_blur_downsample_jpeg()
    {
        using var scope = NewDisposeScope();
        var x = Load("bicubic_f8_input.npy");
        using var op = new DegradationOperator(new DegradationOptions(8, BlurSigma: 2, JpegQuality: 50));
        using var blur = new GaussianBlur(2);
        using var down = new BicubicDownsample(8);
        using var jpeg = new DiffJpeg(50);
        var expected = jpeg.forward(down.forward(blur.forward(x)));
        AssertClose(op.forward(x), expected, (1e-6, 0), "D(x)");
    }

    [Fact]
    public void Official_options_are_bicubic_then_jpeg_q10()
    {
        var official = DegradationOptions.Official(32, jpeg: true);
        Assert.Equal(new DegradationOptions(32, null, null, 10), official);
        Assert.Null(DegradationOptions.Official(32, jpeg: false).JpegQuality);
    }

    [Fact]
    public void Without_stages_the_operator_is_the_identity_and_gradients_flow_through_all_stages()
    {
        using var scope = NewDisposeScope();
        var x = Load("bicubic_f4_input.npy");
        using var identity = new DegradationOperator(new DegradationOptions(1));
        AssertClose(identity.forward(x), x, (0, 0), "identity");

        var batch = cat([x, x.flip(2)], 0).requires_grad_(true);
        using var kernel = tensor(new float[] { 0.25f, 0.5f, 0.25f }).reshape(1, 3);
        using var op = new DegradationOperator(new DegradationOptions(4, Kernel: kernel.expand(3, 3) / 3, JpegQuality: 30));
        var y = op.forward(batch);
        Assert.Equal(new long[] { 2, 3, 16, 16 }, y.shape);
        y.sum().backward();
        Assert.True(batch.grad![1].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Constant_kernels_are_buffers_so_to_device_moves_them()
    {
        using var kernel = ones(3, 3) / 9;
        using var op = new DegradationOperator(new DegradationOptions(4, Kernel: kernel, JpegQuality: 10));
        var names = op.named_buffers().Select(b => b.name).ToHashSet();
        Assert.Superset(new HashSet<string> { "blur.kernel", "downsample.k1", "downsample.k2", "jpeg.dct_basis", "jpeg.y_step", "jpeg.c_step" }, names);
        Assert.Empty(op.parameters());
    }

    [Fact]
    public void Contradictory_options_are_refused()
    {
        using var kernel = ones(3, 3) / 9;
        Assert.Throws<ArgumentException>(() => new DegradationOperator(new DegradationOptions(4, BlurSigma: 1, Kernel: kernel)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DegradationOperator(new DegradationOptions(0)));
    }
}
