using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Tests.FaceNets;

/// <summary>The adapters' resizing, label mapping, coordinate scaling and gradients, against the nets they wrap.</summary>
public sealed class FaceNetAdapterTests
{
    [Fact]
    public void Expression_classifier_reorders_face_api_labels_to_sair_names()
    {
        using var chip = FacePhotos.Load(FacePhotos.Johns()[0].Path);
        using var _ = no_grad();
        using var classifier = new FaceApiExpressionClassifier(InstalledFaceModels.Expression);
        using var sair = classifier.Probabilities(chip);
        using var input = F.interpolate(chip, size: [112, 112], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true) * 255.0;
        using var native = InstalledFaceModels.Expression.forward(input);
        var sairValues = sair[0].data<float>().ToArray();
        var nativeValues = native[0].data<float>().ToArray();
        var nativeName = new Dictionary<string, string> { ["fear"] = "fearful", ["disgust"] = "disgusted", ["surprise"] = "surprised" };
        for (var i = 0; i < Emotions.Names.Count; i++)
        {
            var label = nativeName.GetValueOrDefault(Emotions.Names[i], Emotions.Names[i]);
            var j = FaceExpressionNet.Labels.ToList().IndexOf(label);
            Assert.Equal(nativeValues[j], sairValues[i], 6);
        }
        Assert.Equal(1.0, sairValues.Sum(), 4);
    }

    [Fact]
    public void Landmarks_are_in_the_inputs_own_pixels()
    {
        using var chip = FacePhotos.Load(FacePhotos.Johns()[0].Path);
        using var _ = no_grad();
        using var detector = new FaceApiLandmarks(InstalledFaceModels.Landmarks);
        using var atNative = detector.Detect(chip);
        using var doubled = F.interpolate(chip, size: [300, 300], mode: InterpolationMode.Bilinear, align_corners: false);
        using var atDouble = detector.Detect(doubled);
        Assert.Equal(new long[] { 1, 68, 2 }, atNative.shape);
        // The same face at twice the size: the points double (up to the resampling's effect on the net).
        var error = (atDouble - atNative * 2).abs().max().item<float>();
        Assert.True(error < 3, $"landmarks of the 300 px chip differ from 2× those of the 150 px chip by up to {error:0.00} px.");
        // And they lie on the face: the eyes above the mouth, inside the chip.
        var points = atNative[0];
        Assert.True(points[36, 1].item<float>() < points[48, 1].item<float>());
        Assert.True(points.min().item<float>() > 0 && points.max().item<float>() < 150);
    }

    public static TheoryData<string> Adapters => ["faceapi", "faceres", "expression", "landmarks"];

    [Theory]
    [MemberData(nameof(Adapters))]
    public void Gradients_reach_the_pixels_of_a_large_input(string adapter)
    {
        Func<Tensor, Tensor> run = adapter switch
        {
            "faceapi" => new FaceApiIdentity(InstalledFaceModels.Recognition).Embed,
            "faceres" => new FaceResIdentity(InstalledFaceModels.FaceRes).Embed,
            "expression" => new FaceApiExpressionClassifier(InstalledFaceModels.Expression).Probabilities,
            _ => new FaceApiLandmarks(InstalledFaceModels.Landmarks).Detect,
        };
        using var scope = NewDisposeScope();
        using var chip = FacePhotos.Load(FacePhotos.Johns()[3].Path);
        var large = F.interpolate(chip, size: [512, 512], mode: InterpolationMode.Bilinear, align_corners: false).detach().requires_grad_(true);
        var result = run(large);
        result.square().sum().backward();
        var grad = large.grad!;
        Assert.True(grad.isfinite().all().item<bool>(), $"{adapter}: non-finite gradient.");
        // Antialiased downscaling spreads the gradient over every input pixel; a plain bilinear shrink from 512 (by
        // 2.3× to 4.6×) would read only the pixels next to its sample points and leave a quarter or more without gradient.
        var touched = (grad.abs().sum(1) > 0).to(ScalarType.Float32).mean().item<float>();
        Assert.True(touched > 0.95, $"{adapter}: only {touched:P0} of the input pixels receive gradient.");
    }

    /// <summary>
    /// A batched restoration pass embeds every run's rendering in one call of the identity net: each face's embedding
    /// and its gradient must be the ones it gets alone (no batch statistics, nothing mixed across the batch).
    /// </summary>
    [Theory]
    [InlineData("faceapi")]
    [InlineData("faceres")]
    public void Identity_adapters_embed_each_face_of_a_batch_as_alone(string adapter)
    {
        using var scope = NewDisposeScope();
        using var identity = adapter == "faceapi"
            ? (IIdentityNetwork)new FaceApiIdentity(InstalledFaceModels.Recognition)
            : new FaceResIdentity(InstalledFaceModels.FaceRes);
        var faces = FacePhotos.Johns().Take(3)
            .Select(photo => F.interpolate(FacePhotos.Load(photo.Path), size: [64, 64], mode: InterpolationMode.Bilinear, align_corners: false).detach())
            .ToList();
        var batch = cat(faces, 0).requires_grad_(true);
        var together = identity.Embed(batch);
        together.square().sum().backward();
        for (var k = 0; k < faces.Count; k++)
        {
            var alone = faces[k].clone().requires_grad_(true);
            var embedding = identity.Embed(alone);
            embedding.square().sum().backward();
            var gap = (together[k] - embedding[0]).abs().max().item<float>();
            var gradientGap = (batch.grad![k] - alone.grad![0]).abs().max().item<float>() / alone.grad!.abs().max().item<float>();
            Assert.True(gap < 1e-4 && gradientGap < 1e-3, $"{adapter}, face {k}: embedding differs by {gap}, gradient by {gradientGap:P3} of its largest");
        }
    }

    [Fact]
    public void Identity_adapters_refuse_a_non_image_batch()
    {
        using var net = new FaceApiIdentity(InstalledFaceModels.Recognition);
        using var grey = zeros(1, 1, 150, 150);
        var error = Assert.Throws<ArgumentException>(() => net.Embed(grey));
        Assert.Contains("(B, 3, H, W)", error.Message);
    }
}
