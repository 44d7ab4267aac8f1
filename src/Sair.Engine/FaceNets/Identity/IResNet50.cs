using TorchSharp.Modules;
using static Sair.Engine.FaceNets.Identity.BackboneLayers;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// insightface's arcface_torch IResNet-50, the identity network of the SAIR code (<c>irestnet50.pth</c>):
/// a (B, 3, 112, 112) image normalised as <see cref="SairIResNetPreprocessing"/> does → a (B, E) embedding, the output of
/// the <c>features</c> BatchNorm1d, not L2-normalised. Attribute names follow the original, so
/// <see cref="IO.StateDictLoader.Entries"/> gives the keys, shapes and order of the released state dict.
/// </summary>
public sealed class IResNet50 : nn.Module<Tensor, Tensor>
{
    private readonly RoutedConv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly PReLU prelu;
    private readonly ModuleList<IBasicBlock> layer1;
    private readonly ModuleList<IBasicBlock> layer2;
    private readonly ModuleList<IBasicBlock> layer3;
    private readonly ModuleList<IBasicBlock> layer4;
    private readonly BatchNorm2d bn2;
    private readonly Linear fc;
    private readonly BatchNorm1d features;

    /// <summary>Builds the network with PyTorch's default initialisation; load weights before use.</summary>
    public IResNet50(BackboneWidths widths) : base("IResNet")
    {
        ArgumentNullException.ThrowIfNull(widths);
        widths.Validate(minBaseWidth: 1);
        Widths = widths;
        var stem = widths.BaseWidth;
        conv1 = Conv3x3(3, stem, 1);
        bn1 = Bn2d(stem);
        prelu = PRelu(stem);
        var stages = new ModuleList<IBasicBlock>[BackboneWidths.StageCount];
        var inplanes = stem;
        for (var s = 0; s < stages.Length; s++)
        {
            var planes = widths.Stage(s);
            // Every stage, layer1 included, starts with a stride-2 block.
            stages[s] = nn.ModuleList(Enumerable.Range(0, Depth50[s])
                .Select(b => new IBasicBlock(b == 0 ? inplanes : planes, planes, b == 0 ? 2 : 1))
                .ToArray());
            inplanes = planes;
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        bn2 = Bn2d(inplanes);
        // insightface's dropout sits between flatten and fc; the released model uses p = 0 and it is the identity at
        // inference, so it is left out (it holds no weights).
        fc = nn.Linear(widths.FlattenedFeatures, widths.EmbeddingSize);
        features = Bn1d(widths.EmbeddingSize);

        register_module(nameof(conv1), conv1);
        register_module(nameof(bn1), bn1);
        register_module(nameof(prelu), prelu);
        register_module(nameof(layer1), layer1);
        register_module(nameof(layer2), layer2);
        register_module(nameof(layer3), layer3);
        register_module(nameof(layer4), layer4);
        register_module(nameof(bn2), bn2);
        register_module(nameof(fc), fc);
        register_module(nameof(features), features);
        DetachWeightsFromScope(this);
    }

    /// <summary>The channel widths this instance was built with.</summary>
    public BackboneWidths Widths { get; }

    public override Tensor forward(Tensor input) => Forward(input, null);

    /// <summary>
    /// The forward pass; when <paramref name="taps"/> is given it receives (caller-owned) intermediates: "stem",
    /// "layer1" … "layer4" and "fc" (before the <c>features</c> BatchNorm).
    /// </summary>
    internal Tensor Forward(Tensor input, ICollection<KeyValuePair<string, Tensor>>? taps)
    {
        CheckNetworkInput(input, "IResNet-50");
        using var scope = NewDisposeScope();
        var x = prelu.forward(bn1.forward(conv1.forward(input)));
        Tap(taps, "stem", x);
        (string Name, ModuleList<IBasicBlock> Blocks)[] stages =
            [(nameof(layer1), layer1), (nameof(layer2), layer2), (nameof(layer3), layer3), (nameof(layer4), layer4)];
        foreach (var (name, blocks) in stages)
        {
            foreach (var block in blocks)
            {
                x = block.forward(x);
            }
            Tap(taps, name, x);
        }
        x = fc.forward(bn2.forward(x).flatten(1));
        Tap(taps, nameof(fc), x);
        return features.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// insightface's IBasicBlock: bn1 → conv1 (3×3) → bn2 → prelu → conv2 (3×3, carries the stride) → bn3, plus the
/// shortcut (a strided 1×1 conv + BatchNorm when the shape changes); no activation after the sum.
/// </summary>
internal sealed class IBasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn1;
    private readonly RoutedConv2d conv1;
    private readonly BatchNorm2d bn2;
    private readonly PReLU prelu;
    private readonly RoutedConv2d conv2;
    private readonly BatchNorm2d bn3;
    private readonly Sequential? downsample;

    public IBasicBlock(int inplanes, int planes, int stride) : base("IBasicBlock")
    {
        bn1 = Bn2d(inplanes);
        conv1 = Conv3x3(inplanes, planes, 1);
        bn2 = Bn2d(planes);
        prelu = PRelu(planes);
        conv2 = Conv3x3(planes, planes, stride);
        bn3 = Bn2d(planes);
        if (stride != 1 || inplanes != planes)
        {
            downsample = nn.Sequential(("0", Conv1x1(inplanes, planes, stride)), ("1", Bn2d(planes)));
        }

        register_module(nameof(bn1), bn1);
        register_module(nameof(conv1), conv1);
        register_module(nameof(bn2), bn2);
        register_module(nameof(prelu), prelu);
        register_module(nameof(conv2), conv2);
        register_module(nameof(bn3), bn3);
        if (downsample is not null)
        {
            register_module(nameof(downsample), downsample);
        }
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var residual = bn3.forward(conv2.forward(prelu.forward(bn2.forward(conv1.forward(bn1.forward(input))))));
        var shortcut = downsample is null ? input : downsample.forward(input);
        return residual.add(shortcut).MoveToOuterDisposeScope();
    }
}
