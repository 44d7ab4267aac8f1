using System.Collections.Immutable;
using Sair.Engine.Imaging;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Faces;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;
using Sair.Silo.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit.Abstractions;

namespace Sair.Silo.Tests.Adapters;

/// <summary>
/// A composed group photo of two enrolled people and a stranger, through the real face analyzer, pool, engine and
/// composer: three faces found left to right, each matched on its own face (the stranger below the identity net's
/// calibrated threshold), one job each, all three pasted back into one photo.
/// </summary>
[Collection(TinyEngineCollection.Name)]
public sealed class GroupPhotoOnRealEngineTests(RealEngineCluster grid, ITestOutputHelper output) : IClassFixture<RealEngineCluster>
{
    [Fact]
    public async Task Each_face_of_a_group_photo_is_found_matched_to_its_own_person_restored_and_pasted_back()
    {
        var people = JohnsPhotos.People();
        var (ann, bob, stranger) = (people[0], people[1], people[4]);
        var pool = grid.Client.GetGrain<IReferencePoolGrain>("group-real");
        await pool.EnrollAsync(ann.Person, JohnsPhotos.Photo(ann.Photos[0]));
        await pool.EnrollAsync(bob.Person, JohnsPhotos.Photo(bob.Photos[0]));
        var (group, cell) = Group([ann.Photos[3], bob.Photos[3], stranger.Photos[3]]);

        var finder = grid.Client.GetGrain<IFaceFinderGrain>(0);
        var faces = await finder.FindAsync(group);

        Assert.Equal(3, faces.Length);
        for (var index = 0; index < 3; index++)
        {
            var location = faces[index].Location;
            Assert.Equal(index, location.Index);
            Assert.InRange(location.X + location.Width / 2, index * cell, (index + 1) * cell);
        }

        var net = await finder.GetIdentityNetAsync();
        var threshold = MatchThresholds.For(net) ?? throw new InvalidOperationException($"{net} has no calibrated threshold");
        var matches = new List<PoolMatch>();
        foreach (var face in faces)
        {
            matches.Add(Assert.Single(await pool.MatchAsync(face.Embedding, 1)));
        }

        output.WriteLine($"{net}, threshold {threshold}: " + string.Join("; ", matches.Select(m => $"{m.Person} {m.Similarity:0.000}")));
        Assert.Equal(ann.Person, matches[0].Person);
        Assert.Equal(bob.Person, matches[1].Person);
        Assert.True(matches[0].Similarity >= threshold && matches[1].Similarity >= threshold, "an enrolled person fell below the threshold");
        Assert.True(matches[2].Similarity < threshold, $"the stranger matched {matches[2].Person} at {matches[2].Similarity:0.000} ≥ {threshold}");

        // The album as a client submits it: one job per face, each with its match (the stranger without identity).
        await grid.Images.PutAsync("albums/group-real/party.png", group, CancellationToken.None);
        ImmutableArray<AlbumFace> jobs =
        [
            new(0, faces[0].Location, ReferenceSelection.FromPool("group-real", ann.Person)),
            new(0, faces[1].Location, ReferenceSelection.FromPool("group-real", bob.Person)),
            new(0, faces[2].Location, ReferenceSelection.None()),
        ];
        var album = grid.Client.GetGrain<IAlbumGrain>("group-real");
        var options = new RestorationOptions("paper", Iterations: 3, Emotion: null, EmotionStrength: 0, Seed: 1, CheckpointEvery: 3);
        await album.SubmitAsync(new AlbumSpec(["albums/group-real/party.png"], ReferenceSelection.None(), options, "results/group-real",
            FaceFraming.Unaligned, jobs));
        await foreach (var _ in album.FollowAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromMinutes(5)).Token))
        {
        }

        var results = await album.ListResultsAsync();
        output.WriteLine(string.Join("\n", results.Select(r => $"face {r.FaceIndex}: {r.State} photo {r.RestoredPhotoPath} note {r.Note}")));
        Assert.All(results, r => Assert.True(r.State == JobState.Completed, $"face {r.FaceIndex}: {r.State} {r.Error}"));
        Assert.Equal([net, net, null], results.Select(r => r.IdentityNet));
        var composedPath = results[0].RestoredPhotoPath!;
        Assert.All(results, r => Assert.Equal(composedPath, r.RestoredPhotoPath));

        // Every face's box changed in the composed photo; the photo's left and right edges, outside every pasted square, did not.
        using var before = Image.Load<Rgb24>(group);
        using var after = Image.Load<Rgb24>(await grid.Images.GetAsync(composedPath, CancellationToken.None));
        Assert.Equal((before.Width, before.Height), (after.Width, after.Height));
        foreach (var face in faces)
        {
            var box = face.Location;
            var changed = MeanDifference(before, after, (int)(box.X + box.Width / 4), (int)(box.Y + box.Height / 4), (int)(box.Width / 2), (int)(box.Height / 2));
            Assert.True(changed > 5, $"face {box.Index}: mean change {changed:0.0} in its box; it was not pasted back");
        }

        Assert.True(MeanDifference(before, after, 0, 0, 8, before.Height) < 1, "the left edge of the photo changed");
        Assert.True(MeanDifference(before, after, before.Width - 8, 0, 8, before.Height) < 1, "the right edge of the photo changed");
    }

    /// <summary>
    /// The chips side by side, each in a grey cell (faces need some background); the cell width. The photo is blurred
    /// by a trip through a quarter of its size, as a small old print scanned large is: a sharp 150 px face would keep its own pixels (it holds more
    /// detail than the tiny generator makes), a blurred one is replaced.
    /// </summary>
    private static (byte[] Png, int Cell) Group(string[] chips)
    {
        const int cell = 260;
        using var group = new Image<Rgb24>(cell * chips.Length, cell, new Rgb24(110, 110, 110));
        for (var index = 0; index < chips.Length; index++)
        {
            using var chip = ImageFiles.Load(chips[index]);
            var at = new Point(index * cell + (cell - chip.Width) / 2, (cell - chip.Height) / 2);
            group.Mutate(p => p.DrawImage(chip, at, 1f));
        }

        var (width, height) = (group.Width, group.Height);
        group.Mutate(p => p.Resize(width / 4, height / 4, KnownResamplers.Bicubic).Resize(width, height, KnownResamplers.Bicubic));
        return (ImageFiles.Encode(group, "png"), cell);
    }

    private static double MeanDifference(Image<Rgb24> a, Image<Rgb24> b, int x0, int y0, int width, int height)
    {
        double sum = 0;
        for (var y = y0; y < y0 + height; y++)
        {
            for (var x = x0; x < x0 + width; x++)
            {
                var (p, q) = (a[x, y], b[x, y]);
                sum += Math.Abs(p.R - q.R) + Math.Abs(p.G - q.G) + Math.Abs(p.B - q.B);
            }
        }

        return sum / (3.0 * width * height);
    }
}
