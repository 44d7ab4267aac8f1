using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.Tests.FaceNets;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Alignment;

/// <summary>Identity on FFHQ-aligned faces: where the recogniser's training chip lies in the FFHQ square, and retrieval through that crop.</summary>
public sealed class FfhqIdentityCropTests(JohnsLandmarksFixture johns, ITestOutputHelper output) : IClassFixture<JohnsLandmarksFixture>
{
    [Fact]
    public void Dlib_chip_crop_is_where_the_johns_chips_sit_in_their_ffhq_squares()
    {
        double left = 0, top = 0, size = 0;
        foreach (var (_, chip, landmarks) in johns.Chips)
        {
            var toUnit = AlignmentTemplate.Ffhq.PhotoToUnit(landmarks);
            var (x0, y0) = toUnit.Apply(0, 0);
            left += x0;
            top += y0;
            size += Math.Sqrt(Math.Abs(toUnit.Determinant)) * chip.shape[3];
        }
        var n = johns.Chips.Count;
        output.WriteLine($"dlib chip in the FFHQ square: left {left / n:0.000}, top {top / n:0.000}, size {size / n:0.000}");
        var crop = FaceCrop.DlibChipInFfhq;
        Assert.True(Math.Abs(left / n - crop.Left) < 0.01 && Math.Abs(top / n - crop.Top) < 0.01 && Math.Abs(size / n - crop.Size) < 0.01,
            $"the chips sit at ({left / n:0.000}, {top / n:0.000}) size {size / n:0.000}; FaceCrop.DlibChipInFfhq says ({crop.Left}, {crop.Top}) size {crop.Size}.");
    }

    [Fact]
    public void Face_api_recognises_ffhq_aligned_faces_through_the_dlib_chip_crop()
    {
        using var cropped = new FaceApiIdentity(InstalledFaceModels.Recognition, crop: FaceCrop.DlibChipInFfhq);
        using var whole = new FaceApiIdentity(InstalledFaceModels.Recognition);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var people = FacePhotos.Johns().Select(j => j.Person).ToArray();
        var aligned = cat(johns.Chips.Select(c => FaceAligner.Align(c.Chip, c.Landmarks, 256, AlignmentTemplate.Ffhq).Face).ToList(), 0);
        var (rankCropped, verifyCropped) = Scores(cropped, aligned, people);
        var (rankWhole, verifyWhole) = Scores(whole, aligned, people);
        output.WriteLine($"face-api on FFHQ-aligned johns at 256: through the dlib chip crop rank-1 {rankCropped:P1}, " +
                         $"verification at Euclidean 0.6 {verifyCropped:P1}; whole square rank-1 {rankWhole:P1}, verification {verifyWhole:P1}");
        Assert.True(rankCropped >= 0.95, $"rank-1 through the dlib chip crop is {rankCropped:P1}.");
        // The 0.6 threshold belongs to the chip framing: through the crop it must separate the pairs better than on the whole square.
        Assert.True(verifyCropped > 0.9 && verifyCropped > verifyWhole,
            $"verification at 0.6: {verifyCropped:P1} through the crop, {verifyWhole:P1} on the whole square.");
    }

    /// <summary>Leave-one-out rank-1 by the net's similarity, and the share of pairs face-api's Euclidean 0.6 threshold gets right.</summary>
    private static (double RankOne, double Verification) Scores(IIdentityNetwork net, Tensor images, string[] people)
    {
        var embeddings = net.Embed(images);
        var correct = 0;
        var verified = 0;
        var pairs = 0;
        for (var i = 0; i < people.Length; i++)
        {
            var others = embeddings[i].unsqueeze(0).expand(people.Length, -1);
            var similarity = net.Similarity(others, embeddings).data<float>().ToArray();
            similarity[i] = float.NegativeInfinity;
            correct += people[Array.IndexOf(similarity, similarity.Max())] == people[i] ? 1 : 0;
            var distance = FaceApiIdentity.EuclideanDistance(others, embeddings).data<float>().ToArray();
            for (var j = i + 1; j < people.Length; j++)
            {
                verified += (distance[j] < FaceRecognitionNet.SamePersonThreshold) == (people[i] == people[j]) ? 1 : 0;
                pairs++;
            }
        }
        return ((double)correct / people.Length, (double)verified / pairs);
    }
}
