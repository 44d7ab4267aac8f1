using Sair.Engine.Imaging;
using Sair.Engine.Runtime;
using Sair.Grains.Ports;
using static TorchSharp.torch;

namespace Sair.Silo.Adapters;

/// <summary>
/// The grid's <see cref="IPhotoComposer"/>: decodes a group photo and its restored faces and pastes them back exactly as
/// <see cref="SairRestorationEngine"/> pastes one face (same alignment, feathering, upscale and keep-the-sharper-face rule).
/// </summary>
public sealed class SairPhotoComposer(EngineModels models) : IPhotoComposer
{
    private readonly SairRestorationEngine _engine = new(models);

    public Task<byte[]> ComposeAsync(byte[] photoPng, IReadOnlyList<RestoredFace> faces, double upscale, CancellationToken cancellationToken) =>
        NativeErrors.ForUserAsync(async () =>
        {
            ArgumentNullException.ThrowIfNull(photoPng);
            ArgumentNullException.ThrowIfNull(faces);
            await models.Readiness.WhenReadyAsync(cancellationToken);
            return await Task.Run(() => Compose(photoPng, faces, upscale), cancellationToken);
        });

    private byte[] Compose(byte[] photoPng, IReadOnlyList<RestoredFace> faces, double upscale)
    {
        using var scope = NewDisposeScope();
        var limits = ImageLimits.Default with { MaxPixels = models.Options.MaxImagePixels };
        using var decoded = ImageFiles.Decode(photoPng, "group photo to compose", limits);
        var pixels = ImageTensors.ToTensor(decoded);
        var restored = new List<(Tensor, Tensor)>();
        foreach (var face in faces)
        {
            using var image = ImageFiles.Decode(face.RestoredFacePng, $"restored face {face.Location.Index}", limits);
            restored.Add((SairRestorationEngine.LandmarksOf(face.Location), ImageTensors.ToTensor(image)));
        }

        using var composed = ImageTensors.ToImage(_engine.Compose(pixels, restored, upscale, models.Generator.Config.Size));
        return ImageFiles.Encode(composed, "png");
    }
}
