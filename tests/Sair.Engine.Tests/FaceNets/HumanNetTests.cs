using Sair.Engine.FaceNets;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets;

public sealed class HumanNetTests
{
    [Theory]
    [MemberData(nameof(FaceNetFixtures.EntryIds), MemberType = typeof(FaceNetFixtures))]
    public void FaceRes_descriptor_age_and_gender_match_tfjs(string id)
    {
        var net = InstalledFaceModels.FaceRes;
        using var input = FaceNetFixtures.InputNchw(id, "faceres_input");
        using var _ = no_grad();
        using var outputs = net.Predict(input);
        Assert.Equal(new long[] { 1, FaceResNet.DescriptorSize }, outputs.Descriptor.shape);
        FaceNetFixtures.AssertClose(FaceNetFixtures.Output(id, "faceres_1024"), outputs.Descriptor, $"{id} faceres descriptor");
        FaceNetFixtures.AssertClose(FaceNetFixtures.Output(id, "faceres_100"), outputs.Age, $"{id} faceres age");
        FaceNetFixtures.AssertClose(FaceNetFixtures.Output(id, "faceres_1"), outputs.Gender, $"{id} faceres gender");
    }

    [Theory]
    [MemberData(nameof(FaceNetFixtures.EntryIds), MemberType = typeof(FaceNetFixtures))]
    public void Emotion_probabilities_match_tfjs(string id)
    {
        var net = InstalledFaceModels.Emotion;
        using var input = FaceNetFixtures.InputNchw(id, "emotion_input");
        using var _ = no_grad();
        using var probabilities = net.forward(input);
        Assert.Equal(new long[] { 1, HumanEmotionNet.Labels.Count }, probabilities.shape);
        FaceNetFixtures.AssertClose(FaceNetFixtures.Output(id, "human_emotion_7"), probabilities, $"{id} emotion");
    }

    [Fact]
    public void Emotion_preprocessing_is_weighted_grey_scaled_to_minus_one_one()
    {
        using var rgb = tensor(new float[] { 1, 0, 0.5f, 0, 1, 0.5f, 0, 0, 0.5f }, [1, 3, 1, 3]);
        using var grey = HumanEmotionNet.Preprocess(rgb);
        Assert.Equal(new long[] { 1, 1, 1, 3 }, grey.shape);
        var v = grey.data<float>().ToArray();
        Assert.Equal((0.2989 - 0.5) * 2, v[0], 6);
        Assert.Equal((0.5870 - 0.5) * 2, v[1], 6);
        Assert.Equal((0.5 * (0.2989 + 0.5870 + 0.1140) - 0.5) * 2, v[2], 6);
    }
}
