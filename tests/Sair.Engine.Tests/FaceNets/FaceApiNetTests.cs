using Sair.Engine.FaceNets;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets;

public sealed class FaceApiNetTests
{
    [Theory]
    [MemberData(nameof(FaceNetFixtures.EntryIds), MemberType = typeof(FaceNetFixtures))]
    public void Recognition_descriptor_matches_tfjs(string id)
    {
        var net = InstalledFaceModels.Recognition;
        using var input = FaceNetFixtures.InputNchw(id, "faceapi_input150");
        using var _ = no_grad();
        using var descriptor = net.forward(input);
        Assert.Equal(new long[] { 1, FaceRecognitionNet.DescriptorSize }, descriptor.shape);
        FaceNetFixtures.AssertClose(FaceNetFixtures.Output(id, "faceapi_recognition_128"), descriptor, $"{id} recognition");
    }

    [Theory]
    [MemberData(nameof(FaceNetFixtures.EntryIds), MemberType = typeof(FaceNetFixtures))]
    public void Expression_probabilities_match_tfjs(string id)
    {
        var net = InstalledFaceModels.Expression;
        using var input = FaceNetFixtures.InputNchw(id, "faceapi_input112");
        using var _ = no_grad();
        using var probabilities = net.forward(input);
        Assert.Equal(new long[] { 1, 7 }, probabilities.shape);
        FaceNetFixtures.AssertClose(FaceNetFixtures.Output(id, "faceapi_expression_7"), probabilities, $"{id} expression");
    }

    [Theory]
    [MemberData(nameof(FaceNetFixtures.EntryIds), MemberType = typeof(FaceNetFixtures))]
    public void Landmarks_match_face_api_runtime(string id)
    {
        var net = InstalledFaceModels.Landmarks;
        using var input = FaceNetFixtures.InputNchw(id, "faceapi_input112");
        using var _ = no_grad();
        using var points = net.forward(input);
        Assert.Equal(new long[] { 1, FaceLandmark68Net.Points, 2 }, points.shape);
        FaceNetFixtures.AssertClose(FaceNetFixtures.FaceApiOracle(id, "landmarks68"), points, $"{id} landmarks");
    }

    [Theory]
    [MemberData(nameof(FaceNetFixtures.EntryIds), MemberType = typeof(FaceNetFixtures))]
    public void Tiny_face_detector_grid_matches_face_api_runtime(string id)
    {
        var net = InstalledFaceModels.Detector;
        using var input = FaceNetFixtures.InputNchw(id, "faceres_input");
        using var _ = no_grad();
        using var grid = net.forward(input);
        Assert.Equal(new long[] { 1, 7, 7, 5, 5 }, grid.shape);
        FaceNetFixtures.AssertClose(FaceNetFixtures.FaceApiOracle(id, "tinyFaceDetector"), grid, $"{id} tiny face detector");
    }

    [Fact]
    public void Tiny_face_detector_finds_the_one_face_of_a_portrait()
    {
        using var input = FaceNetFixtures.InputNchw("Obama_o1", "faceres_input");
        var faces = InstalledFaceModels.Detector.Detect(input);
        var face = Assert.Single(faces);
        Assert.True(face.Score > 0.9, $"score {face.Score}");
        var (cx, cy) = (face.X + face.Width / 2, face.Y + face.Height / 2);
        Assert.InRange(cx, 0.3, 0.7);
        Assert.InRange(cy, 0.3, 0.7);
        Assert.InRange(face.Width, 0.3, 1.0);
    }
}
