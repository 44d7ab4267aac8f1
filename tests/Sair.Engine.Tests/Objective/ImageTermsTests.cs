using Sair.Engine.Degradation;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.Objective;
using static Sair.Engine.Tests.SairOpsFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Objective;

public sealed class ImageTermsTests
{
    [Theory]
    [InlineData("both")]
    [InlineData("onesided")]
    public void Official_normalisation_matches_run_py(string name)
    {
        using var scope = NewDisposeScope();
        var x = Load($"norm_{name}_input.npy").requires_grad_(true);
        var output = OutputNormalization.Official(x);
        AssertMatches(output, $"norm_{name}_output.npy");
        var clamped = x.detach().clamp(-1, 1);
        AssertScalar(clamped.min().item<float>(), $"norm_{name}_min");
        AssertScalar(clamped.max().item<float>(), $"norm_{name}_max");
        (output * Load($"norm_{name}_G.npy")).sum().backward();
        AssertMatches(x.grad!, $"norm_{name}_grad_input.npy");
    }

    [Fact]
    public void Official_normalisation_is_per_image_and_paper_normalisation_is_affine()
    {
        using var scope = NewDisposeScope();
        var a = Load("norm_both_input.npy");
        var b = Load("norm_onesided_input.npy");
        var both = OutputNormalization.Official(cat([a, b], 0));
        AssertMatches(both[0..1], "norm_both_output.npy");
        AssertMatches(both[1..2], "norm_onesided_output.npy");

        var paper = OutputNormalization.Paper(tensor(new float[] { -2, -1, 0, 0.5f, 1, 3 }));
        Assert.Equal(new float[] { 0, 0, 0.5f, 0.75f, 1, 1 }, paper.data<float>().ToArray());
    }

    [Fact]
    public void Official_data_term_matches_run_py_including_the_floor()
    {
        using var scope = NewDisposeScope();
        var a = Load("data_pair_a.npy").requires_grad_(true);
        var b = Load("data_pair_b.npy");
        var loss = DataTerm.Official(a, b);
        AssertScalar(loss.item<float>(), "data_pair_value");
        loss.backward();
        AssertMatches(a.grad!, "data_pair_grad_a.npy");
        Assert.Equal(0, a.grad![1].abs().max().item<float>());
    }

    [Fact]
    public void Paper_data_term_is_the_squared_Frobenius_norm()
    {
        using var scope = NewDisposeScope();
        var a = Load("data_pair_a.npy").requires_grad_(true);
        var b = Load("data_pair_b.npy");
        var loss = DataTerm.Paper(a, b);
        var mse0 = Scalar("data_pair_mse_sample0");
        var mse1 = Scalar("data_pair_mse_sample1");
        Assert.Equal((mse0 + mse1) * 3 * 32 * 32, loss.item<float>(), 2);
        loss.backward();
        AssertClose(a.grad!, 2 * (a.detach() - b), (1e-6, 1e-6), "gradient 2(a − b)");
    }

    [Fact]
    public void Data_chain_from_1024_to_32_matches_the_official_values()
    {
        using var scope = NewDisposeScope();
        var image = Shared("bicubic_f32_input.npy");
        var lr = Load("hist_lr32.npy");
        using var plain = new DegradationOperator(DegradationOptions.Official(32, jpeg: false));
        using var withJpeg = new DegradationOperator(DegradationOptions.Official(32, jpeg: true));
        AssertScalar(DataTerm.Official(plain.forward(image), lr).item<float>(), "data_chain_nojpeg_value");
        var prediction = withJpeg.forward(image);
        AssertMatches(prediction, "data_chain_jpeg_pred.npy");
        AssertScalar(DataTerm.Official(prediction, lr).item<float>(), "data_chain_jpeg_value");
    }

    [Fact]
    public void Identity_preprocessing_matches_the_official_input_and_gradient()
    {
        using var scope = NewDisposeScope();
        var image = Shared("bicubic_f32_input.npy").detach().requires_grad_(true);
        var output = SairIResNetPreprocessing.Instance.Apply(image);
        AssertMatches(output, "idpre_output.npy");
        (output * Load("idpre_G.npy")).sum().backward();

        var rows = Load("idpre_grad_rows.npy");
        var cols = Load("idpre_grad_cols.npy");
        var block = image.grad!.index_select(2, rows).index_select(3, cols);
        AssertMatches(block, "idpre_grad_block.npy");
        var outside = image.grad!.abs().sum().item<float>() - block.abs().sum().item<float>();
        Assert.Equal(0, outside, 3);
        var touchedRows = image.grad!.abs().sum([0, 1, 3]).nonzero().flatten();
        var touchedCols = image.grad!.abs().sum([0, 1, 2]).nonzero().flatten();
        AssertMatches(touchedRows, "idpre_grad_rows.npy", rows);
        AssertMatches(touchedCols, "idpre_grad_cols.npy", cols);
    }

    [Fact]
    public void Torch_bicubic_interpolation_matches_torch_1_13_in_both_official_calls()
    {
        using var scope = NewDisposeScope();
        var down = Load("interp_down4_input.npy").requires_grad_(true);
        var downOut = nn.functional.interpolate(down, scale_factor: [0.25, 0.25], mode: InterpolationMode.Bicubic, align_corners: false);
        AssertMatches(downOut, "interp_down4_output.npy");
        (downOut * Load("interp_down4_G.npy")).sum().backward();
        AssertMatches(down.grad!, "interp_down4_grad_input.npy");
        AssertMatches(HistogramLoss.ToComparisonSize(down.detach(), 16), "interp_down4_output.npy");

        var ac = Load("interp_ac112_input.npy").requires_grad_(true);
        var acOut = nn.functional.interpolate(ac, size: [28, 28], mode: InterpolationMode.Bicubic, align_corners: true);
        AssertMatches(acOut, "interp_ac112_output.npy");
        (acOut * Load("interp_ac112_G.npy")).sum().backward();
        AssertMatches(ac.grad!, "interp_ac112_grad_input.npy");
    }
}
