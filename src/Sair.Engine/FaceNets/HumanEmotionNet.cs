using Sair.Engine.FaceNets.Tfjs;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets;

/// <summary>
/// Human's <c>emotion</c> model (oarriaga's mini-Xception, trained on FER-2013): a 64×64 grey face → probabilities
/// of the seven expressions in <see cref="Labels"/> order. Runs the graph model through <see cref="TfjsGraphNet"/>,
/// differentiable with respect to the input pixels.
/// </summary>
internal sealed class HumanEmotionNet : nn.Module<Tensor, Tensor>
{
    public const string ModelName = "emotion";

    public const int InputSize = 64;

    /// <summary>The output order (FER-2013's).</summary>
    public static readonly IReadOnlyList<string> Labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];

    /// <summary>Human's grey weights for R, G, B (MATLAB's rgb2gray).</summary>
    private static readonly float[] GreyWeights = [0.2989f, 0.5870f, 0.1140f];

    private const string OutputNode = "Identity";

    private readonly TfjsGraphNet graph;

    public HumanEmotionNet(TfjsGraphModel model) : base(nameof(HumanEmotionNet))
    {
        graph = new TfjsGraphNet(model);
        RegisterComponents();
        eval();
    }

    public static HumanEmotionNet Load(FaceModelLocator? locator = null)
    {
        using var model = TfjsGraphModel.Load((locator ?? FaceModelLocator.Default()).HumanGraphModel(ModelName));
        return new HumanEmotionNet(model);
    }

    /// <summary>Human's preprocessing of a 64×64 RGB face (NCHW, values 0..1): grey = Σ wᵢ·cᵢ, then (grey − 0.5)·2 → (N, 1, 64, 64).</summary>
    public static Tensor Preprocess(Tensor rgb01)
    {
        if (rgb01.dim() != 4 || rgb01.shape[1] != 3)
        {
            throw new ArgumentException($"Expected an NCHW RGB batch (N, 3, H, W) with values 0..1, got [{string.Join(", ", rgb01.shape)}].", nameof(rgb01));
        }
        using var weights = tensor(GreyWeights, [1, 3, 1, 1], dtype: rgb01.dtype, device: rgb01.device);
        using var weighted = rgb01 * weights;
        using var grey = weighted.sum(1, keepdim: true);
        using var centred = grey - 0.5;
        return centred * 2;
    }

    /// <summary>(N, 1, 64, 64) preprocessed grey faces (see <see cref="Preprocess"/>) → (N, 7) probabilities.</summary>
    public override Tensor forward(Tensor grey)
    {
        if (grey.dim() != 4 || grey.shape[1] != 1 || grey.shape[2] != InputSize || grey.shape[3] != InputSize)
        {
            throw new ArgumentException(
                $"{nameof(HumanEmotionNet)} expects (N, 1, {InputSize}, {InputSize}) grey faces from {nameof(Preprocess)}; got [{string.Join(", ", grey.shape)}].",
                nameof(grey));
        }
        using var nhwc = grey.permute(0, 2, 3, 1);
        return graph.Run(nhwc, OutputNode)[0];
    }
}
