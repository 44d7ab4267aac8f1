using Sair.Engine.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Tests.Runtime;

/// <summary>
/// The im2col route the kernel guard can choose for narrow convolutions (configuration default-im2col). Compared in
/// float64, which libtorch never sends to oneDNN, so the reference is right on every CPU.
/// </summary>
public sealed class EngineConvTests
{
    public static TheoryData<string, long[], long[], long[], long[], long[], long, bool> Shapes => new()
    {
        // name, input, weight, stride, padding, dilation, groups, bias
        { "3→8 stem", [2, 3, 17, 19], [8, 3, 3, 3], [1, 1], [1, 1], [1, 1], 1, true },
        { "bicubic plane, vertical stride", [3, 1, 40, 16], [1, 1, 16, 1], [4, 1], [0, 0], [1, 1], 1, false },
        { "blur plane", [6, 1, 18, 18], [1, 1, 4, 4], [1, 1], [0, 0], [1, 1], 1, false },
        { "stddev channels", [4, 65, 4, 4], [64, 65, 3, 3], [1, 1], [1, 1], [1, 1], 1, true },
        { "strided, dilated", [1, 8, 21, 20], [5, 8, 3, 3], [2, 2], [2, 1], [2, 1], 1, true },
        { "depthwise RGB", [2, 3, 12, 12], [3, 1, 5, 5], [1, 1], [2, 2], [1, 1], 3, false },
        { "grouped", [2, 12, 9, 9], [6, 4, 3, 3], [1, 1], [1, 1], [1, 1], 3, true },
        { "1×1 toRGB", [2, 24, 8, 8], [3, 24, 1, 1], [1, 1], [0, 0], [1, 1], 1, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Im2col_computes_the_convolution_and_its_gradients(string name, long[] input, long[] weight, long[] stride,
        long[] padding, long[] dilation, long groups, bool withBias)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var x = randn(input, dtype: float64, generator: generator).requires_grad_();
        var w = randn(weight, dtype: float64, generator: generator).requires_grad_();
        var b = withBias ? randn([weight[0]], dtype: float64, generator: generator).requires_grad_() : null;

        var expected = F.conv2d(x, w, b, stride, padding, dilation, groups);
        var actual = EngineConv.Im2Col(x, w, b, (stride[0], stride[1]), (padding[0], padding[1]), (dilation[0], dilation[1]), groups);

        AssertSameValuesAndGradients(expected, actual, b is null ? [x, w] : [x, w, b], name);
    }

    /// <summary>The ungrouped rows of <see cref="Shapes"/>: grouped convolutions are never padded.</summary>
    public static IEnumerable<object[]> UngroupedShapes => Shapes.Where(row => (long)row[6] == 1);

    [Theory]
    [MemberData(nameof(UngroupedShapes))]
    public void Zero_padding_the_channels_computes_the_convolution_and_its_gradients(string name, long[] input, long[] weight, long[] stride,
        long[] padding, long[] dilation, long groups, bool withBias)
    {
        Assert.Equal(1, groups);
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var x = randn(input, dtype: float64, generator: generator).requires_grad_();
        var w = randn(weight, dtype: float64, generator: generator).requires_grad_();
        var b = withBias ? randn([weight[0]], dtype: float64, generator: generator).requires_grad_() : null;

        var expected = F.conv2d(x, w, b, stride, padding, dilation);
        var actual = EngineConv.ZeroPadded(x, w, b, stride, padding, dilation);

        AssertSameValuesAndGradients(expected, actual, b is null ? [x, w] : [x, w, b], name);
    }

    [Fact]
    public void Pointwise_computes_a_1x1_convolution_and_its_first_and_second_derivatives()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var x = randn([3, 32, 6, 5], dtype: float64, generator: generator).requires_grad_();
        var w = randn([24, 32, 1, 1], dtype: float64, generator: generator).requires_grad_();
        var b = randn([24], dtype: float64, generator: generator).requires_grad_();

        var expected = F.conv2d(x, w, b);
        var actual = EngineConv.Pointwise(x, w, b);
        Assert.True(allclose(actual, expected, rtol: 1e-10, atol: 1e-10));

        // R1's pattern: the gradient of a gradient's norm with respect to the weight.
        Tensor Second(Tensor y)
        {
            var gx = autograd.grad([y.square().sum()], [x], retain_graph: true, create_graph: true)[0];
            return autograd.grad([gx.square().sum()], [w])[0];
        }

        Assert.True(allclose(Second(actual), Second(expected), rtol: 1e-10, atol: 1e-10));
    }

    [Theory]
    [InlineData(3, 32, true)] // the face nets' stem: 16/3 × 1
    [InlineData(64, 3, true)] // toRGB
    [InlineData(8, 8, true)] // narrow layers: 2 × 2
    [InlineData(65, 64, true)] // the discriminator's stddev layer
    [InlineData(1, 1, false)] // a filter plane: 256 × the work, im2col instead
    [InlineData(3, 3, false)] // the colour transforms
    [InlineData(3, 8, false)]
    public void Channels_are_padded_only_where_that_costs_little(long inChannels, long outChannels, bool padded)
    {
        Assert.Equal(padded, EngineConv.PaddingFactor(inChannels, outChannels) <= EngineConv.MaxPaddingFactor);
    }

    public static TheoryData<string, long[], long[], long[], long, bool> TransposedShapes => new()
    {
        // name, input, weight (in, out/groups, k, k), padding, groups, bias; stride 2 as the generator upsamples
        { "narrow upsampling", [2, 8, 5, 6], [8, 8, 3, 3], [0, 0], 1, true },
        { "batched modulated (groups = batch)", [1, 16, 4, 4], [16, 4, 3, 3], [0, 0], 2, false },
        { "RGB skip, depthwise with crop", [2, 3, 7, 7], [3, 1, 4, 4], [1, 1], 3, false },
    };

    [Theory]
    [MemberData(nameof(TransposedShapes))]
    public void Col2im_computes_the_transposed_convolution_and_its_gradients(string name, long[] input, long[] weight, long[] padding,
        long groups, bool withBias)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(9);
        var x = randn(input, dtype: float64, generator: generator).requires_grad_();
        // Stored transposed, as the generator passes its weights: not contiguous.
        var stored = randn([weight[1], weight[0], weight[2], weight[3]], dtype: float64, generator: generator).requires_grad_();
        var w = stored.transpose(0, 1);
        var b = withBias ? randn([weight[1] * groups], dtype: float64, generator: generator).requires_grad_() : null;

        var expected = F.conv_transpose2d(x, w, b, [2, 2], padding, groups: groups);
        var actual = EngineConv.Col2Im(x, w, b, (2, 2), (padding[0], padding[1]), groups);

        AssertSameValuesAndGradients(expected, actual, b is null ? [x, stored] : [x, stored, b], name);
    }

    [Fact]
    public void Only_float32_CPU_convolutions_of_the_shapes_the_guard_found_wrong_are_routed_and_only_when_it_says_so()
    {
        using var scope = NewDisposeScope();
        var wide = zeros(1, 32, 8, 8);
        var rgb = zeros(1, 3, 8, 8);
        var narrow = zeros(1, 8, 8, 8);
        var stem = zeros(32, 3, 3, 3);

        Assert.False(EngineConv.IsRouted(wide, zeros(32, 32, 3, 3), routeUnaligned: true));
        Assert.False(EngineConv.IsRouted(rgb, stem, routeUnaligned: true)); // an image stem: oneDNN's first-layer kernels
        Assert.True(EngineConv.IsRouted(rgb, zeros(8, 3, 3, 3), routeUnaligned: true)); // narrow output
        Assert.True(EngineConv.IsRouted(narrow, zeros(32, 8, 3, 3), routeUnaligned: true)); // narrow input
        Assert.True(EngineConv.IsRouted(zeros(1, 65, 4, 4), zeros(64, 65, 3, 3), routeUnaligned: true));
        Assert.True(EngineConv.IsRouted(wide, zeros(3, 32, 1, 1), routeUnaligned: true)); // toRGB
        Assert.True(EngineConv.IsRouted(wide, zeros(64, 32, 1, 1), routeUnaligned: true)); // 1×1: its double backward
        Assert.False(EngineConv.IsRouted(narrow, zeros(8, 8, 3, 3), routeUnaligned: false));
        Assert.False(EngineConv.IsRouted(narrow.to(float64), zeros(8, 8, 3, 3, dtype: float64), routeUnaligned: true));
    }

    [Fact]
    public void Grouped_weights_that_do_not_fit_the_input_are_refused_in_words()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => EngineConv.Im2Col(zeros(1, 6, 4, 4), zeros(4, 4, 3, 3), null, (1, 1), (1, 1), (1, 1), 2));
        Assert.Contains("do not fit", e.Message);
    }

    /// <summary>Same shape, contiguous (callers view the result as they view conv2d's), same values and gradients.</summary>
    private static void AssertSameValuesAndGradients(Tensor expected, Tensor actual, Tensor[] inputs, string name)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.is_contiguous(), name);
        Assert.True(allclose(actual, expected, rtol: 1e-10, atol: 1e-10), name);
        var upstream = arange(expected.numel(), dtype: float64).cos().view(expected.shape);
        var want = autograd.grad([expected], inputs, [upstream]);
        var got = autograd.grad([actual], inputs, [upstream]);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(want[i].shape, got[i].shape);
            Assert.True(allclose(got[i], want[i], rtol: 1e-10, atol: 1e-10), $"{name}: gradient {i}");
        }
    }
}
