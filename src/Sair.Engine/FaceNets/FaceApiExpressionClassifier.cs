using static TorchSharp.torch;

namespace Sair.Engine.FaceNets;

/// <summary>
/// face-api's expression model as SAIR's classifier: any-size [0,1] RGB is resized to its 112×112 input and the
/// probabilities are reordered from face-api's labels to <see cref="Emotions.Names"/>.
/// </summary>
public sealed class FaceApiExpressionClassifier : IExpressionClassifier
{
    /// <summary>face-api's label for each SAIR name where the two differ.</summary>
    private static readonly Dictionary<string, string> FaceApiLabel = new(StringComparer.Ordinal)
    {
        ["fear"] = "fearful",
        ["disgust"] = "disgusted",
        ["surprise"] = "surprised",
    };

    private readonly FaceExpressionNet _net;
    private readonly bool _ownsNet;
    private readonly long[] _faceApiIndexOfSair;

    /// <summary>Wraps a loaded net; it is disposed with this adapter only when <paramref name="ownsNet"/> is true.</summary>
    public FaceApiExpressionClassifier(FaceExpressionNet net, bool ownsNet = false)
    {
        ArgumentNullException.ThrowIfNull(net);
        _net = net;
        _ownsNet = ownsNet;
        _faceApiIndexOfSair = Emotions.Names.Select(name => (long)IndexOfFaceApiLabel(FaceApiLabel.GetValueOrDefault(name, name))).ToArray();
    }

    /// <summary>Loads the pretrained expression model through <paramref name="locator"/> and owns it.</summary>
    public static FaceApiExpressionClassifier Load(FaceModelLocator? locator = null) => new(FaceExpressionNet.Load(locator), ownsNet: true);

    public Tensor Probabilities(Tensor rgb01)
    {
        using var scope = NewDisposeScope();
        var input = FaceChip.To255(rgb01, FaceExpressionNet.InputSize, nameof(FaceApiExpressionClassifier));
        var faceApiOrder = _net.forward(input);
        var index = tensor(_faceApiIndexOfSair, device: faceApiOrder.device);
        return faceApiOrder.index_select(1, index).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        if (_ownsNet)
        {
            _net.Dispose();
        }
    }

    private static int IndexOfFaceApiLabel(string label)
    {
        for (var i = 0; i < FaceExpressionNet.Labels.Count; i++)
        {
            if (FaceExpressionNet.Labels[i] == label)
            {
                return i;
            }
        }
        throw new InvalidOperationException($"face-api has no expression label '{label}'; its labels are {string.Join(", ", FaceExpressionNet.Labels)}.");
    }
}
