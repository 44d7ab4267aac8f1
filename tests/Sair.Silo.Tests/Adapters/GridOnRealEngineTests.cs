using Sair.Engine.Imaging;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;
using Sair.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Sair.Silo.Tests.Adapters;

/// <summary>Pools and albums through the grain API on silos whose ports are the real face analyzer and SAIR engine.</summary>
[Collection(TinyEngineCollection.Name)]
public sealed class GridOnRealEngineTests(RealEngineCluster grid, ITestOutputHelper output) : IClassFixture<RealEngineCluster>
{
    [Fact]
    public async Task Pool_matching_of_unseen_photos_finds_the_right_person_at_rank_one()
    {
        var pool = grid.Client.GetGrain<IReferencePoolGrain>("johns");
        var people = JohnsPhotos.People();
        const int enrolled = 2;
        foreach (var (person, photos) in people)
        {
            foreach (var photo in photos.Take(enrolled))
            {
                await pool.EnrollAsync(person, JohnsPhotos.Photo(photo));
            }
        }

        var (correct, total) = (0, 0);
        var misses = new List<string>();
        foreach (var (person, photos) in people)
        {
            foreach (var photo in photos.Skip(enrolled))
            {
                var matches = await pool.MatchPhotoAsync(JohnsPhotos.Photo(photo), 1);
                total++;
                if (matches.Length == 1 && matches[0].Person == person)
                {
                    correct++;
                }
                else
                {
                    misses.Add($"{Path.GetFileName(photo)} ({person}) → {(matches.Length > 0 ? matches[0].Person : "nobody")}");
                }
            }
        }

        var rank1 = (double)correct / total;
        output.WriteLine($"rank-1 {correct}/{total} = {rank1:P1} with {enrolled} references per person; misses: {string.Join("; ", misses)}");
        Assert.Equal(5 * (11 - enrolled), total);
        Assert.True(rank1 >= 0.95, $"rank-1 through the pool grain is {rank1:P1}: {string.Join("; ", misses)}");
    }

    [Fact]
    public async Task A_photo_without_a_face_is_refused_by_the_pool_with_the_analyzers_reason()
    {
        var pool = grid.Client.GetGrain<IReferencePoolGrain>("no-face");

        var error = await Assert.ThrowsAsync<FaceNotFoundException>(() => pool.EnrollAsync("nobody", TinyEngine.BlankPng(200, 200)));

        Assert.Contains("No face found", error.Message);
        Assert.Empty(await pool.ListAsync());
    }

    [Fact]
    public async Task An_album_is_restored_by_the_real_engine_and_every_result_lands_in_the_image_store()
    {
        // References: one enrolled photo of the person. Inputs: the aligned faces of two other photos of theirs
        // (as the analyzer aligned them), reduced to 16 px, the 4× degradation the engine restores.
        var (person, photos) = JohnsPhotos.People().First();
        var references = grid.Client.GetGrain<IReferencePoolGrain>("album-references");
        await references.EnrollAsync(person, JohnsPhotos.Photo(photos[0]));
        var scratch = grid.Client.GetGrain<IReferencePoolGrain>("album-inputs");
        var inputs = new List<string>();
        foreach (var photo in photos.Skip(1).Take(2))
        {
            var aligned = await grid.Images.GetAsync((await scratch.EnrollAsync(person, JohnsPhotos.Photo(photo))).AlignedFacePath, CancellationToken.None);
            var path = $"albums/family/input-{inputs.Count}.png";
            await grid.Images.PutAsync(path, JohnsPhotos.Shrunk(aligned, TinyEngine.Size / 4), CancellationToken.None);
            inputs.Add(path);
        }

        var album = grid.Client.GetGrain<IAlbumGrain>("family");
        var options = new RestorationOptions("paper", Iterations: 10, Emotion: null, EmotionStrength: 0, Seed: 1, CheckpointEvery: 5);
        await album.SubmitAsync(new AlbumSpec([.. inputs], ReferenceSelection.FromPool("album-references", person), options, "results/family",
            FaceFraming.Ffhq));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        var progress = await album.GetProgressAsync();
        while (!progress.IsFinished && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            progress = await album.GetProgressAsync();
        }

        var results = await album.ListResultsAsync();
        Assert.True(progress.IsFinished, $"the album did not finish within 3 minutes: {progress}");
        Assert.All(results, r => Assert.True(r.State == JobState.Completed, $"photo {r.Index}: {r.State} {r.Error}"));
        Assert.Equal(2, progress.Completed);
        foreach (var result in results)
        {
            using var restored = ImageFiles.Decode(await grid.Images.GetAsync(result.ResultPath!, CancellationToken.None), result.ResultPath!);
            Assert.Equal((TinyEngine.Size, TinyEngine.Size), (restored.Width, restored.Height));
            Assert.NotNull(result.IdentitySimilarity);
            Assert.StartsWith("results/family/", result.ResultPath);
        }
    }
}
