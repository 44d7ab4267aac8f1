using static TorchSharp.torch;

namespace Sair.Engine.FaceNets;

/// <summary>A facial-expression classifier over SAIR's seven emotions.</summary>
public interface IExpressionClassifier : IDisposable
{
    /// <summary>
    /// Class probabilities (B,7) of (B,3,H,W) RGB images in [0,1] (aligned face crops, any size), in SAIR's order:
    /// neutral, angry, sad, happy, surprise, fear, disgust (see <see cref="Emotions"/>). Differentiable.
    /// </summary>
    Tensor Probabilities(Tensor rgb01);
}

/// <summary>SAIR's seven emotion names, in the order every classifier's output is mapped to.</summary>
public static class Emotions
{
    public static readonly IReadOnlyList<string> Names = ["neutral", "angry", "sad", "happy", "surprise", "fear", "disgust"];

    /// <summary>Index of an emotion name (case-insensitive); throws with the list of valid names otherwise.</summary>
    public static int IndexOf(string name)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        throw new ArgumentException($"unknown emotion '{name}'; use one of: {string.Join(", ", Names)}.", nameof(name));
    }
}
