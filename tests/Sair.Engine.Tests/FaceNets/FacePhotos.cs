using Sair.Engine.Imaging;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets;

/// <summary>The real photos of shared/fixtures/faces as (1,3,H,W) [0,1] tensors.</summary>
internal static class FacePhotos
{
    /// <summary>Every johns/ chip as (person, file, path), in a stable order.</summary>
    public static IReadOnlyList<(string Person, string Path)> Johns() =>
        Directory.GetDirectories(RepoPaths.SharedFile("fixtures", "faces", "johns"))
            .OrderBy(d => d, StringComparer.Ordinal)
            .SelectMany(dir => Directory.GetFiles(dir, "*.jpg").OrderBy(f => f, StringComparer.Ordinal)
                .Select(file => (Path.GetFileName(dir), file)))
            .ToList();

    public static Tensor Load(string path)
    {
        using var image = ImageFiles.Load(path);
        return ImageTensors.ToTensor(image);
    }

    public static string Expression(string label) => RepoPaths.SharedFile("fixtures", "faces", "expressions", label + ".jpg");
}
