using Sair.Engine.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>The layer settings both ArcFace backbones share, so the two stay consistent with their sources.</summary>
internal static class BackboneLayers
{
    /// <summary>Units per stage of both ResNet-50 layouts.</summary>
    public static readonly int[] Depth50 = [3, 4, 14, 3];

    /// <summary>Both sources build every BatchNorm with PyTorch's default eps.</summary>
    public const double BatchNormEps = 1e-5;

    public static BatchNorm2d Bn2d(long channels) => nn.BatchNorm2d(channels, eps: BatchNormEps);

    public static BatchNorm1d Bn1d(long features) => nn.BatchNorm1d(features, eps: BatchNormEps);

    public static RoutedConv2d Conv3x3(long inChannels, long outChannels, long stride) => new(inChannels, outChannels, 3, stride, 1);

    public static RoutedConv2d Conv1x1(long inChannels, long outChannels, long stride) => new(inChannels, outChannels, 1, stride, 0);

    /// <summary>A per-channel PReLU; the 0.25 start slope is PyTorch's and is overwritten by any checkpoint.</summary>
    public static PReLU PRelu(long channels) => nn.PReLU(channels);

    /// <summary>Throws unless <paramref name="input"/> is a (B, 3, 112, 112) batch, the only size the heads accept.</summary>
    public static void CheckNetworkInput(Tensor input, string network)
    {
        ArgumentNullException.ThrowIfNull(input);
        const int side = IdentityPreprocessing.NetworkInputSize;
        if (input.dim() != 4 || input.shape[1] != 3 || input.shape[2] != side || input.shape[3] != side)
        {
            throw new ArgumentException(
                $"{network} takes (batch, 3, {side}, {side}) images already preprocessed; got ({string.Join(", ", input.shape)}). " +
                "Use IIdentityNetwork.Embed for images of any size in [0, 1].", nameof(input));
        }
    }

    /// <summary>
    /// Adds an extra handle to an intermediate result to <paramref name="taps"/>, outside the caller's dispose scope,
    /// so the tapped tensor outlives the forward pass that made it.
    /// </summary>
    public static void Tap(ICollection<KeyValuePair<string, Tensor>>? taps, string name, Tensor value)
    {
        taps?.Add(KeyValuePair.Create(name, value.alias().MoveToOuterDisposeScope()));
    }

    /// <summary>Keeps the weights out of whatever dispose scope the network happens to be built in.</summary>
    public static void DetachWeightsFromScope(nn.Module module)
    {
        foreach (var (_, tensor) in Sair.Engine.IO.StateDictLoader.Entries(module))
        {
            tensor.DetachFromDisposeScope();
        }
    }
}

/// <summary>
/// A bias-free 2-D convolution with <c>nn.Conv2d</c>'s parameter name and initialisation, computed by
/// <see cref="EngineConv.Conv2d"/> so the kernel guard's routing applies to the backbones too (their SE blocks squeeze
/// to 4–32 channels, their stem reads 3).
/// </summary>
internal sealed class RoutedConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly long _stride;
    private readonly long _padding;

    public RoutedConv2d(long inChannels, long outChannels, long kernelSize, long stride, long padding) : base("Conv2d")
    {
        _stride = stride;
        _padding = padding;
        using var init = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: false);
        weight = new Parameter(init.weight!.detach().clone());
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        EngineConv.Conv2d(input, weight, strides: [_stride, _stride], padding: [_padding, _padding]);
}
