using Sair.Engine.StyleGan;
using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Training;

/// <summary>rosinality's Discriminator layout and the behaviour of its minibatch stddev.</summary>
public sealed class StyleGan2DiscriminatorTests
{
    private static readonly StyleGan2Config Config16 = new()
    {
        Size = 16, StyleDim = 8, NMlp = 1, Channels = new Dictionary<int, int> { [4] = 12, [8] = 10, [16] = 6 },
    };

    [Fact]
    public void State_dict_has_rosinalitys_keys_shapes_and_order()
    {
        // From rosinality's model.py: ConvLayer = Sequential([Blur], EqualConv2d, [FusedLeakyReLU]); bias in the activation.
        string[] expected =
        [
            "convs.0.0.weight (6,3,1,1)", "convs.0.1.bias (6)",
            "convs.1.conv1.0.weight (6,6,3,3)", "convs.1.conv1.1.bias (6)",
            "convs.1.conv2.0.kernel (4,4)", "convs.1.conv2.1.weight (10,6,3,3)", "convs.1.conv2.2.bias (10)",
            "convs.1.skip.0.kernel (4,4)", "convs.1.skip.1.weight (10,6,1,1)",
            "convs.2.conv1.0.weight (10,10,3,3)", "convs.2.conv1.1.bias (10)",
            "convs.2.conv2.0.kernel (4,4)", "convs.2.conv2.1.weight (12,10,3,3)", "convs.2.conv2.2.bias (12)",
            "convs.2.skip.0.kernel (4,4)", "convs.2.skip.1.weight (12,10,1,1)",
            "final_conv.0.weight (12,13,3,3)", "final_conv.1.bias (12)",
            "final_linear.0.weight (12,192)", "final_linear.0.bias (12)",
            "final_linear.1.weight (1,12)", "final_linear.1.bias (1)",
        ];
        using var d = new StyleGan2Discriminator(Config16);
        var actual = d.state_dict().Select(kv => $"{kv.Key} ({string.Join(",", kv.Value.shape)})").ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Logits_depend_on_the_spread_within_each_group_of_four()
    {
        using var d = new StyleGan2Discriminator(Config16);
        using var noGrad = no_grad();
        using var one = randn([1, 3, 16, 16], generator: new Generator(1));
        using var same = one.expand(4, -1, -1, -1).contiguous();
        using var varied = cat([one, randn([3, 3, 16, 16], generator: new Generator(2))], 0);
        using var a = d.forward(same);
        using var b = d.forward(varied);
        Assert.Equal([4L, 1L], a.shape);
        // Identical samples give identical logits; swapping the other three members changes sample 0's logit
        // only through the stddev feature.
        Assert.True(a.allclose(a[0].expand(4, -1)));
        Assert.NotEqual(a[0, 0].item<float>(), b[0, 0].item<float>());
        Assert.Throws<ArgumentException>(() => d.forward(randn(6, 3, 16, 16)));
    }

    [Fact]
    public void R1_penalty_is_twice_differentiable_through_the_blurred_downsampling()
    {
        using var d = new StyleGan2Discriminator(Config16);
        using var scope = NewDisposeScope();
        var x = randn([4, 3, 16, 16], generator: new Generator(3)).requires_grad_(true);
        var gradient = autograd.grad([d.forward(x).sum()], [x], retain_graph: true, create_graph: true)[0];
        gradient.square().sum().backward();
        var weight = d.parameters().First();
        Assert.NotNull(weight.grad);
        Assert.True(weight.grad!.abs().sum().item<float>() > 0);
    }
}
