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
}
