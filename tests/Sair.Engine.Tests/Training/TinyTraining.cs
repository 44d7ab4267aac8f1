using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Training;

/// <summary>An 8-px, 8-channel recipe and a dozen random 8-px "faces": a training step takes milliseconds.</summary>
internal static class TinyTraining
{
    public static PriorTrainingOptions Options(int size = 8) => new()
    {
        Size = size,
        StyleDim = 8,
        NMlp = 2,
        Channels = Enumerable.Range(2, (int)Math.Log2(size) - 1).ToDictionary(i => 1 << i, _ => 8),
        Batch = 4,
        R1Interval = 2,
        SampleCount = 4,
        FfdEvery = 0,
        Seed = 7,
    };

    public static FaceImageSet Faces(int count = 12, int size = 8)
    {
        using var rng = new Generator(11);
        using var pixels = randint(0, 256, [count, 3, size, size], dtype: ScalarType.Byte, generator: rng);
        return FaceImageSet.FromTensor(pixels);
    }

    public static string TempPath(string name) => Path.Combine(Path.GetTempPath(), $"sair-prior-{Guid.NewGuid():N}-{name}");
}
