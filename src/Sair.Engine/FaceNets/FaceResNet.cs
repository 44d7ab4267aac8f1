using Sair.Engine.FaceNets.Tfjs;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets;

/// <summary>The three heads of Human's faceres model for one batch.</summary>
/// <param name="Descriptor">(N, 1024) identity descriptor (the global average pool of the backbone).</param>
/// <param name="Age">(N, 100) softmax over age in years.</param>
/// <param name="Gender">(N, 1) sigmoid; above 0.5 means male in Human's reading.</param>
public sealed record FaceResOutputs(Tensor Descriptor, Tensor Age, Tensor Gender) : IDisposable
{
    public void Dispose()
    {
        Descriptor.Dispose();
        Age.Dispose();
        Gender.Dispose();
    }
}

/// <summary>
/// Human's <c>faceres</c> (HSE FaceRec, a MobileNet backbone): a 224×224 RGB face, NCHW, values 0..255 →
/// 1024-d descriptor, age distribution and gender. Runs the graph model itself through <see cref="TfjsGraphNet"/>,
/// differentiable with respect to the input pixels.
/// </summary>
public sealed class FaceResNet : nn.Module<Tensor, Tensor>
{
    public const string ModelName = "faceres";

    public const int InputSize = 224;

    public const int DescriptorSize = 1024;

    private const string DescriptorNode = "global_pooling/Mean";
    private const string AgeNode = "age_pred/Softmax";
    private const string GenderNode = "gender_pred/Sigmoid";

    private readonly TfjsGraphNet graph;

    public FaceResNet(TfjsGraphModel model) : base(nameof(FaceResNet))
    {
        graph = new TfjsGraphNet(model);
        RegisterComponents();
        eval();
    }

    public static FaceResNet Load(FaceModelLocator? locator = null)
    {
        using var model = TfjsGraphModel.Load((locator ?? FaceModelLocator.Default()).HumanGraphModel(ModelName));
        return new FaceResNet(model);
    }

    /// <summary>(N, 3, 224, 224) RGB 0..255 → (N, 1024) descriptors.</summary>
    public override Tensor forward(Tensor rgb255)
    {
        using var all = Predict(rgb255);
        return all.Descriptor.alias();
    }

    /// <summary>All three heads in one pass.</summary>
    public FaceResOutputs Predict(Tensor rgb255)
    {
        if (rgb255.dim() != 4 || rgb255.shape[1] != 3 || rgb255.shape[2] != InputSize || rgb255.shape[3] != InputSize)
        {
            throw new ArgumentException(
                $"{nameof(FaceResNet)} expects an NCHW RGB batch (N, 3, {InputSize}, {InputSize}) with values 0..255; got [{string.Join(", ", rgb255.shape)}].",
                nameof(rgb255));
        }
        using var nhwc = rgb255.permute(0, 2, 3, 1);
        var outputs = graph.Run(nhwc, DescriptorNode, AgeNode, GenderNode);
        return new FaceResOutputs(outputs[0], outputs[1], outputs[2]);
    }
}
