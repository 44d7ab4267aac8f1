using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets.Tfjs;

/// <summary>Named tensors decoded from tfjs weights, in TensorFlow layouts (conv filters HWIO), on the CPU.</summary>
public sealed class TfjsWeightMap : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    internal TfjsWeightMap(string sourcePath, Dictionary<string, Tensor> tensors)
    {
        SourcePath = sourcePath;
        _tensors = tensors;
    }

    /// <summary>The manifest or model.json the weights were described by (named in every error).</summary>
    public string SourcePath { get; }

    /// <summary>The weight names in manifest order.</summary>
    public IReadOnlyCollection<string> Names => _tensors.Keys;

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The tensor called <paramref name="name"/>; throws a <see cref="CheckpointException"/> when absent or of another shape.</summary>
    public Tensor Get(string name, params long[] expectedShape)
    {
        if (!_tensors.TryGetValue(name, out var tensor))
        {
            throw new CheckpointException(SourcePath, $"has no weight '{name}' (is this the right model file?).");
        }
        if (expectedShape.Length > 0 && !tensor.shape.SequenceEqual(expectedShape))
        {
            throw new CheckpointException(SourcePath,
                $"weight '{name}' has shape [{string.Join(", ", tensor.shape)}], expected [{string.Join(", ", expectedShape)}].");
        }
        return tensor;
    }

    public void Dispose()
    {
        foreach (var tensor in _tensors.Values)
        {
            tensor.Dispose();
        }
        _tensors.Clear();
    }
}
