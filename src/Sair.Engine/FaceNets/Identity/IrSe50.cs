using TorchSharp.Modules;
using static Sair.Engine.FaceNets.Identity.BackboneLayers;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// TreB1eN's IR-SE50 as pSp and e4e build it (<c>Backbone(112, 50, mode='ir_se')</c>, weights
/// <c>model_ir_se50.pth</c>): a (B, 3, 112, 112) image in [−1, 1] → a (B, E) embedding divided by its L2 norm (no
/// epsilon, as upstream). Attribute names follow the original, and so does the registration order: input_layer,
/// output_layer, body — real state dicts list <c>output_layer.*</c> right after <c>input_layer.*</c>.
/// </summary>
public sealed class IrSe50 : nn.Module<Tensor, Tensor>
{
    /// <summary>The squeeze-and-excitation bottleneck is depth / 16 channels wide.</summary>
    public const int SeReduction = 16;

    /// <summary>pSp's drop_ratio; Dropout is the identity at inference.</summary>
    public const double DropRatio = 0.6;

    private readonly Sequential input_layer;
    private readonly Sequential output_layer;
    private readonly ModuleList<BottleneckIrSe> body;

    /// <summary>Builds the network with PyTorch's default initialisation; load weights before use.</summary>
    public IrSe50(BackboneWidths widths) : base("Backbone")
    {
        ArgumentNullException.ThrowIfNull(widths);
        // Narrower than 16 channels would leave the first SE bottleneck with no channels at all.
        widths.Validate(minBaseWidth: SeReduction);
        Widths = widths;
        var stem = widths.BaseWidth;
        input_layer = nn.Sequential(("0", Conv3x3(3, stem, 1)), ("1", Bn2d(stem)), ("2", PRelu(stem)));

        var units = new List<BottleneckIrSe>();
        var inChannels = stem;
        for (var s = 0; s < BackboneWidths.StageCount; s++)
        {
            var depth = widths.Stage(s);
            for (var u = 0; u < Depth50[s]; u++)
            {
                units.Add(new BottleneckIrSe(u == 0 ? inChannels : depth, depth, u == 0 ? 2 : 1));
            }
            inChannels = depth;
        }
        body = nn.ModuleList(units.ToArray());

        output_layer = nn.Sequential(
            ("0", Bn2d(inChannels)),
            ("1", nn.Dropout(DropRatio)),
            ("2", nn.Flatten()),
            ("3", nn.Linear(widths.FlattenedFeatures, widths.EmbeddingSize)),
            ("4", Bn1d(widths.EmbeddingSize)));

        register_module(nameof(input_layer), input_layer);
        register_module(nameof(output_layer), output_layer);
        register_module(nameof(body), body);
        DetachWeightsFromScope(this);
    }

    /// <summary>The channel widths this instance was built with.</summary>
    public BackboneWidths Widths { get; }

    public override Tensor forward(Tensor input) => Forward(input, null);

    /// <summary>
    /// The forward pass; when <paramref name="taps"/> is given it receives (caller-owned) intermediates:
    /// "input_layer", "body{i}" after every body unit i, and "prenorm" (the output_layer result before the L2 norm).
    /// </summary>
    internal Tensor Forward(Tensor input, ICollection<KeyValuePair<string, Tensor>>? taps)
    {
        CheckNetworkInput(input, "IR-SE50");
        using var scope = NewDisposeScope();
        var x = input_layer.forward(input);
        Tap(taps, nameof(input_layer), x);
        for (var i = 0; i < body.Count; i++)
        {
            x = body[i].forward(x);
            if (taps is not null)
            {
                Tap(taps, $"body{i}", x);
            }
        }
        x = output_layer.forward(x);
        Tap(taps, "prenorm", x);
        using var norm = linalg.vector_norm(x, 2, [1], keepdim: true);
        return x.div(norm).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// bottleneck_IR_SE: BN → conv 3×3 → PReLU → conv 3×3 (carries the stride) → BN → SE, plus the shortcut: a strided
/// 1×1 conv + BN when the width changes, else MaxPool2d(1, stride), which is plain subsampling and holds no weights.
/// </summary>
internal sealed class BottleneckIrSe : nn.Module<Tensor, Tensor>
{
    private readonly Sequential? shortcut_layer;
    private readonly Sequential res_layer;
    private readonly long _stride;

    public BottleneckIrSe(int inChannels, int depth, int stride) : base("bottleneck_IR_SE")
    {
        _stride = stride;
        if (inChannels != depth)
        {
            shortcut_layer = nn.Sequential(("0", Conv1x1(inChannels, depth, stride)), ("1", Bn2d(depth)));
        }
        res_layer = nn.Sequential(
            ("0", Bn2d(inChannels)),
            ("1", Conv3x3(inChannels, depth, 1)),
            ("2", PRelu(depth)),
            ("3", Conv3x3(depth, depth, stride)),
            ("4", Bn2d(depth)),
            ("5", new SeModule(depth, depth / IrSe50.SeReduction)));

        // Upstream assigns shortcut_layer first, so its keys come first.
        if (shortcut_layer is not null)
        {
            register_module(nameof(shortcut_layer), shortcut_layer);
        }
        register_module(nameof(res_layer), res_layer);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var shortcut = shortcut_layer is not null ? shortcut_layer.forward(input)
            : _stride == 1 ? input
            : input.slice(2, 0, input.shape[2], _stride).slice(3, 0, input.shape[3], _stride);
        return res_layer.forward(input).add(shortcut).MoveToOuterDisposeScope();
    }
}

/// <summary>Squeeze-and-excitation: x · sigmoid(fc2(relu(fc1(global average of x)))), fc1/fc2 bias-free 1×1 convs.</summary>
internal sealed class SeModule : nn.Module<Tensor, Tensor>
{
    private readonly RoutedConv2d fc1;
    private readonly RoutedConv2d fc2;

    public SeModule(int channels, int mid) : base("SEModule")
    {
        fc1 = Conv1x1(channels, mid, 1);
        fc2 = Conv1x1(mid, channels, 1);
        register_module(nameof(fc1), fc1);
        register_module(nameof(fc2), fc2);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var squeezed = F.adaptive_avg_pool2d(input, [1, 1]);
        var gate = fc2.forward(F.relu(fc1.forward(squeezed))).sigmoid();
        return input.mul(gate).MoveToOuterDisposeScope();
    }
}
