using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets;

/// <summary>Both npm identity nets, through <see cref="IIdentityNetwork"/>, on the johns/ set (5 people × 11 aligned chips).</summary>
public sealed class IdentityRetrievalTests(ITestOutputHelper output)
{
    private static readonly Lazy<(string[] People, Tensor Chips)> Johns = new(() =>
    {
        var files = FacePhotos.Johns();
        var chips = files.Select(f => FacePhotos.Load(f.Path)).ToList();
        var batch = cat(chips, 0);
        chips.ForEach(c => c.Dispose());
        return (files.Select(f => f.Person).ToArray(), batch);
    });

    public static TheoryData<string> Networks => ["faceapi", "faceres"];

    [Theory]
    [MemberData(nameof(Networks))]
    public void Leave_one_out_nearest_neighbour_finds_the_same_person_and_pairs_separate(string network)
    {
        using var net = Create(network);
        var (people, chips) = Johns.Value;
        Assert.Equal(55, people.Length);
        Assert.Equal(5, people.Distinct().Count());
        using var _ = no_grad();
        using var embeddings = net.Embed(chips);
        Assert.Equal(new long[] { people.Length, net.EmbeddingSize }, embeddings.shape);
        var similarity = SimilarityMatrix(net, embeddings);

        var correct = 0;
        for (var i = 0; i < people.Length; i++)
        {
            var nearest = Enumerable.Range(0, people.Length).Where(j => j != i).MaxBy(j => similarity[i, j]);
            correct += people[nearest] == people[i] ? 1 : 0;
        }
        var rank1 = (double)correct / people.Length;

        var same = new List<double>();
        var different = new List<double>();
        for (var i = 0; i < people.Length; i++)
        {
            for (var j = i + 1; j < people.Length; j++)
            {
                (people[i] == people[j] ? same : different).Add(similarity[i, j]);
            }
        }
        var auc = RocAuc(same, different);
        output.WriteLine($"{net.Name}: rank-1 {correct}/{people.Length} = {rank1:P1}; ROC AUC {auc:0.0000} " +
                         $"({same.Count} same, {different.Count} different pairs; mean similarity same {same.Average():0.000}, different {different.Average():0.000})");
        Assert.True(rank1 >= 0.95, $"{net.Name}: rank-1 retrieval {rank1:P1} < 95%.");
        Assert.True(auc > 0.9, $"{net.Name}: ROC AUC {auc:0.000} ≤ 0.9.");
    }

    [Fact]
    public void Face_api_euclidean_distance_keeps_its_same_person_threshold()
    {
        var (people, chips) = Johns.Value;
        using var _ = no_grad();
        using var net = new FaceApiIdentity(InstalledFaceModels.Recognition);
        using var embeddings = net.Embed(chips);
        var sameBelow = 0;
        var differentAbove = 0;
        var pairs = 0;
        for (var i = 0; i < people.Length; i++)
        {
            using var distances = FaceApiIdentity.EuclideanDistance(embeddings[i].unsqueeze(0).expand(people.Length, -1), embeddings);
            var d = distances.data<float>().ToArray();
            for (var j = i + 1; j < people.Length; j++)
            {
                var same = people[i] == people[j];
                sameBelow += same && d[j] < FaceRecognitionNet.SamePersonThreshold ? 1 : 0;
                differentAbove += !same && d[j] >= FaceRecognitionNet.SamePersonThreshold ? 1 : 0;
                pairs++;
            }
        }
        var accuracy = (double)(sameBelow + differentAbove) / pairs;
        output.WriteLine($"face-api Euclidean < 0.6 verification accuracy over {pairs} pairs: {accuracy:P1}");
        Assert.True(accuracy > 0.9, $"face-api verification accuracy at its 0.6 threshold is {accuracy:P1}.");
    }

    private static IIdentityNetwork Create(string network) => network switch
    {
        "faceapi" => new FaceApiIdentity(InstalledFaceModels.Recognition),
        "faceres" => new FaceResIdentity(InstalledFaceModels.FaceRes),
        _ => throw new ArgumentOutOfRangeException(nameof(network), network, null),
    };

    /// <summary>All pairwise similarities through the net's own <see cref="IIdentityNetwork.Similarity"/>.</summary>
    private static double[,] SimilarityMatrix(IIdentityNetwork net, Tensor embeddings)
    {
        var n = (int)embeddings.shape[0];
        var result = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            using var row = net.Similarity(embeddings[i].unsqueeze(0).expand(n, -1), embeddings);
            var values = row.data<float>().ToArray();
            for (var j = 0; j < n; j++)
            {
                result[i, j] = values[j];
            }
        }
        return result;
    }

    /// <summary>The probability that a same-person pair scores above a different-person pair (ties count half).</summary>
    private static double RocAuc(List<double> positives, List<double> negatives)
    {
        double wins = 0;
        foreach (var p in positives)
        {
            foreach (var q in negatives)
            {
                wins += p > q ? 1 : p == q ? 0.5 : 0;
            }
        }
        return wins / ((double)positives.Count * negatives.Count);
    }
}
