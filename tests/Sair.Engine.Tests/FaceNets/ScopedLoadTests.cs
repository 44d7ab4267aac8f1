using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets;

/// <summary>
/// A net loaded inside a dispose scope keeps its weights after the scope closes: services load their nets wherever
/// they start, often inside a caller's scope.
/// </summary>
public sealed class ScopedLoadTests
{
    public static TheoryData<string> Nets => ["recognition", "landmarks", "expression", "detector", "faceres", "emotion"];

    [Theory]
    [MemberData(nameof(Nets))]
    public void A_net_loaded_inside_a_closed_scope_still_computes_what_the_shared_net_computes(string name)
    {
        var (load, shared, input) = Case(name);
        nn.Module<Tensor, Tensor> net;
        using (NewDisposeScope())
        {
            net = load();
        }

        using (net)
        using (var x = input())
        using (no_grad())
        {
            using var expected = shared().forward(x);
            using var actual = net.forward(x);
            Assert.True(actual.allclose(expected), $"{name}: the scoped-loaded net computes something else than the shared one.");
        }
    }

    [Fact]
    public void A_face_detector_loaded_inside_a_closed_scope_still_finds_a_face()
    {
        FaceDetector detector;
        using (NewDisposeScope())
        {
            detector = FaceDetector.Load(InstalledFaceModels.Locator);
        }

        using (detector)
        using (var photo = FacePhotos.Load(FacePhotos.Expression("happy")))
        {
            var faces = detector.Detect(photo);
            Assert.NotEmpty(faces);
            faces.ToList().ForEach(f => f.Dispose());
        }
    }

    private static (Func<nn.Module<Tensor, Tensor>> Load, Func<nn.Module<Tensor, Tensor>> Shared, Func<Tensor> Input) Case(string name)
    {
        var locator = InstalledFaceModels.Locator;
        Func<Tensor> Rgb(int side) => () => rand([1, 3, side, side], generator: new TorchSharp.torch.Generator(5)) * 255;
        return name switch
        {
            "recognition" => (() => FaceRecognitionNet.Load(locator), () => InstalledFaceModels.Recognition, Rgb(FaceRecognitionNet.InputSize)),
            "landmarks" => (() => FaceLandmark68Net.Load(locator), () => InstalledFaceModels.Landmarks, Rgb(FaceLandmark68Net.InputSize)),
            "expression" => (() => FaceExpressionNet.Load(locator), () => InstalledFaceModels.Expression, Rgb(FaceExpressionNet.InputSize)),
            "detector" => (() => TinyFaceDetector.Load(locator), () => InstalledFaceModels.Detector, Rgb(160)),
            "faceres" => (() => FaceResNet.Load(locator), () => InstalledFaceModels.FaceRes, Rgb(FaceResNet.InputSize)),
            "emotion" => (() => HumanEmotionNet.Load(locator), () => InstalledFaceModels.Emotion,
                () => rand([1, 1, HumanEmotionNet.InputSize, HumanEmotionNet.InputSize], generator: new TorchSharp.torch.Generator(5)) * 2 - 1),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
    }
}
