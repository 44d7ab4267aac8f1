using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets;

/// <summary>face-api's expression net through <see cref="IExpressionClassifier"/> on the labelled whole photos of expressions/.</summary>
public sealed class ExpressionPhotoTests(ITestOutputHelper output)
{
    /// <summary>The file names (face-api's labels) and the SAIR emotion each one shows.</summary>
    private static readonly (string File, string Emotion)[] Photos =
    [
        ("angry", "angry"), ("disgusted", "disgust"), ("fearful", "fear"), ("happy", "happy"),
        ("neutral", "neutral"), ("sad", "sad"), ("surprised", "surprise"),
    ];

    [Fact]
    public void Detected_faces_are_classified_as_labelled()
    {
        using var classifier = new FaceApiExpressionClassifier(InstalledFaceModels.Expression);
        using var detector = new FaceDetector(InstalledFaceModels.Detector, new FaceApiLandmarks(InstalledFaceModels.Landmarks));
        var correct = 0;
        foreach (var (file, emotion) in Photos)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var photo = FacePhotos.Load(FacePhotos.Expression(file));
            var boxes = detector.DetectBoxes(photo);
            Tensor face;
            string how;
            if (boxes.Count > 0)
            {
                face = FaceDetector.SquareCrop(photo, boxes[0].Box).Crop;
                how = $"detected (score {boxes[0].Score:0.00}, box {boxes[0].Box.Width:0}×{boxes[0].Box.Height:0} px)";
            }
            else
            {
                var side = Math.Min(photo.shape[2], photo.shape[3]);
                face = photo.narrow(2, (photo.shape[2] - side) / 2, side).narrow(3, (photo.shape[3] - side) / 2, side);
                how = "no detection, centre crop";
            }
            var probabilities = classifier.Probabilities(face)[0].data<float>().ToArray();
            var predicted = Emotions.Names[Array.IndexOf(probabilities, probabilities.Max())];
            correct += predicted == emotion ? 1 : 0;
            output.WriteLine($"{file}.jpg {photo.shape[3]}×{photo.shape[2]}: {how}; predicted {predicted} ({probabilities.Max():0.00}), labelled {emotion}");
        }
        output.WriteLine($"{correct}/{Photos.Length} as labelled");
        Assert.True(correct >= 6, $"only {correct} of {Photos.Length} photos were classified as labelled.");
    }
}
