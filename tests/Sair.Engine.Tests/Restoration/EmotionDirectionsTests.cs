using Sair.Engine.FaceNets;
using Sair.Engine.IO;
using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

public sealed class EmotionDirectionsTests
{
    private static readonly string Folder = RepoPaths.SharedFile("fixtures", "sair-official");

    [Fact]
    public void Official_folder_loads_every_emotion_from_its_own_file()
    {
        using var directions = EmotionDirections.LoadOfficialFolder(Folder);
        Assert.Equal((18, 512), (directions.NLatent, directions.StyleDim));
        foreach (var name in Emotions.Names)
        {
            using var published = Npy.Read(Path.Combine(Folder, $"emotion_{name}.npy"));
            using var expected = published.to(ScalarType.Float32).unsqueeze(0);
            using var loaded = directions.Direction(name);
            Assert.True(expected.allclose(loaded, 0, 0), $"{name} is not emotion_{name}.npy");
        }
        // The official code's defect (happy → surprise direction) is not reproduced.
        using var happy = directions.Direction("happy");
        using var surprise = directions.Direction("surprise");
        Assert.False(happy.allclose(surprise, 0, 0));
    }

    [Fact]
    public void Official_gammas_are_used_unless_overridden()
    {
        using var directions = EmotionDirections.LoadOfficialFolder(Folder);
        Assert.Equal(new[] { 3, 5, 8, 3, 3, 3, 2.5 }, Emotions.Names.Select(directions.Gamma));
        using var raw = zeros(7, 2, 4);
        using var custom = new EmotionDirections(raw, new Dictionary<string, double> { ["Sad"] = 1.5 });
        Assert.Equal(1.5, custom.Gamma("sad"));
        Assert.Equal(5, custom.Gamma("angry"));
    }

    [Fact]
    public void Single_file_layout_round_trips()
    {
        using var g = TinySair.LoadGenerator();
        using var directions = TinySair.RandomDirections(g);
        var path = Path.Combine(Path.GetTempPath(), $"sair-emotions-{Guid.NewGuid():N}.npy");
        try
        {
            directions.Save(path);
            using var loaded = EmotionDirections.Load(path);
            using var a = directions.Direction("fear");
            using var b = loaded.Direction("fear");
            Assert.True(a.allclose(b, 0, 0));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Wrong_shapes_and_names_are_refused()
    {
        using var six = zeros(6, 2, 4);
        Assert.Contains("neutral, angry", Assert.Throws<ArgumentException>(() => new EmotionDirections(six)).Message);
        using var official = EmotionDirections.LoadOfficialFolder(Folder);
        Assert.Contains("use one of", Assert.Throws<ArgumentException>(() => official.Gamma("joy")).Message);
        using var g = TinySair.LoadGenerator();
        Assert.Contains("fitted for this generator", Assert.Throws<ArgumentException>(() => new SairRestorer(g, emotionDirections: official)).Message);
    }
}
