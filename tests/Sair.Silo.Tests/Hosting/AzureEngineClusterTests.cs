using System.Collections.Immutable;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Sair.Engine.Imaging;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Grains.Pools;
using Sair.Silo.Adapters;
using Sair.Silo.Hosting;
using Sair.Silo.Storage;
using Sair.Silo.Tests.Adapters;
using Sair.Silo.Tests.Support;

namespace Sair.Silo.Tests.Hosting;

/// <summary>
/// The grid as deployed, end to end: a coordinator and an engine silo running the real SAIR engine (the tiny fixture
/// generator) as two OS processes on Azure Storage (Azurite), and a client in the test process.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureEngineClusterTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan AlbumTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task An_album_restored_by_an_engine_silo_process_is_in_blob_storage_and_its_state_survives_a_whole_cluster_restart()
    {
        var serviceId = $"svc-{Guid.NewGuid():N}";
        var clusterId = $"cluster-{Guid.NewGuid():N}";
        var container = $"images-{Guid.NewGuid():N}";
        var coordinator = SiloOnAzurite(serviceId, clusterId, container);
        var engine = SiloOnAzurite(serviceId, clusterId, container)
            .Set(SairSiloOptions.Section, nameof(SairSiloOptions.Role), SiloMetadataKeys.EngineRole)
            .Set(SairEngineOptions.Section, nameof(SairEngineOptions.GeneratorPath), TinyEngine.GeneratorPath)
            .Set(SairEngineOptions.Section, nameof(SairEngineOptions.ProjectionIterations), "10");
        SiloEnvironment[] silos = [coordinator, engine];
        var blobs = new BlobContainerClient(azurite.ConnectionString, container);
        var images = new AzureBlobImageStore(blobs);
        const string album = "azure-family";

        AlbumProgress progress;
        ImmutableArray<PhotoResult> results;
        await using (var cluster = await SiloCluster.StartAsync(silos, StartTimeout))
        {
            await using (var grid = await GridClient.ConnectAzureAsync(azurite.ConnectionString, serviceId, clusterId))
            {
                var inputs = await PrepareAlbumAsync(grid.Client, images);
                var options = new RestorationOptions("paper", Iterations: 10, Emotion: null, EmotionStrength: 0, Seed: 1, CheckpointEvery: 5);
                var albumGrain = grid.Client.GetGrain<IAlbumGrain>(album);
                await albumGrain.SubmitAsync(new AlbumSpec(inputs.Photos, ReferenceSelection.FromPool("references", inputs.Person), options, $"results/{album}",
                    FaceFraming.Ffhq));
                progress = await WaitFinishedAsync(albumGrain);
                Assert.True(progress.IsFinished, $"the album did not finish within {AlbumTimeout}: {progress}\n{cluster.Logs}");
                results = await albumGrain.ListResultsAsync();
            }

            await cluster.StopAsync();
        }

        Assert.Equal(2, progress.Completed);
        Assert.All(results, r => Assert.True(r.State == JobState.Completed, $"photo {r.Index}: {r.State} {r.Error}"));

        // With both silos down, the results are blobs of the image container: read them with the Azure SDK itself.
        var stored = await BlobNamesAsync(blobs, $"results/{album}/");

        Assert.Equal(results.Select(r => r.ResultPath!).Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        foreach (var name in stored)
        {
            var content = (await blobs.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToArray();
            using var restored = ImageFiles.Decode(content, name);
            Assert.Equal((TinyEngine.Size, TinyEngine.Size), (restored.Width, restored.Height));
        }

        await using (var cluster = await SiloCluster.StartAsync(silos, StartTimeout))
        {
            await using var grid = await GridClient.ConnectAzureAsync(azurite.ConnectionString, serviceId, clusterId);
            var albumGrain = grid.Client.GetGrain<IAlbumGrain>(album);
            Assert.Equal(progress, await albumGrain.GetProgressAsync());
            var reloaded = await albumGrain.ListResultsAsync();
            // Arrays compare by reference in records: the loss histories are compared by value, the rest as records.
            Assert.Equal<PhotoResult>(results.Select(r => r with { LossHistory = null }), reloaded.Select(r => r with { LossHistory = null }));
            Assert.Equal(results.Select(r => r.LossHistory!.ToList()), reloaded.Select(r => r.LossHistory!.ToList()));
            Assert.All(reloaded, r => Assert.Equal(10, r.LossHistory!.Length));
        }
    }

    /// <summary>
    /// A silo on the shared Azurite with its own image container, the real face analyzer (pools live on any silo) on
    /// one libtorch thread, and short grid intervals so that placement sees the engine and the album notices its
    /// finished photos within a second.
    /// </summary>
    private SiloEnvironment SiloOnAzurite(string serviceId, string clusterId, string container) =>
        SiloEnvironment.Azure(azurite.ConnectionString, serviceId, clusterId)
            .Set(SairStorageOptions.Section, nameof(SairStorageOptions.ImageContainer), container)
            .Set(SairEngineOptions.Section, nameof(SairEngineOptions.ModelsDirectory), Path.Combine(RepoPaths.Root, "models"))
            .Set(SairEngineOptions.Section, nameof(SairEngineOptions.Device), "cpu")
            .Set(SairEngineOptions.Section, nameof(SairEngineOptions.Threads), "1")
            .Set(EngineWorkerOptions.Section, nameof(EngineWorkerOptions.LoadReportInterval), "00:00:00.2")
            .Set(EnginePlacementOptions.Section, nameof(EnginePlacementOptions.LoadRefreshInterval), "00:00:00.2")
            .Set(AlbumOptions.Section, nameof(AlbumOptions.ReconcileInterval), "00:00:01");

    /// <summary>
    /// One enrolled reference of a person and, as the album, the aligned faces of two other photos of theirs (as the
    /// coordinator's analyzer aligned them) reduced to 16 px, the 4× degradation the engine restores.
    /// </summary>
    private static async Task<(string Person, ImmutableArray<string> Photos)> PrepareAlbumAsync(IClusterClient client, AzureBlobImageStore images)
    {
        var (person, photos) = JohnsPhotos.People().First();
        await client.GetGrain<IReferencePoolGrain>("references").EnrollAsync(person, JohnsPhotos.Photo(photos[0]));
        var scratch = client.GetGrain<IReferencePoolGrain>("inputs");
        var inputs = ImmutableArray.CreateBuilder<string>();
        foreach (var photo in photos.Skip(1).Take(2))
        {
            var aligned = await images.GetAsync((await scratch.EnrollAsync(person, JohnsPhotos.Photo(photo))).AlignedFacePath, CancellationToken.None);
            var path = $"albums/family/input-{inputs.Count}.png";
            await images.PutAsync(path, JohnsPhotos.Shrunk(aligned, TinyEngine.Size / 4), CancellationToken.None);
            inputs.Add(path);
        }

        return (person, inputs.ToImmutable());
    }

    private static async Task<List<string>> BlobNamesAsync(BlobContainerClient blobs, string prefix)
    {
        var names = new List<string>();
        await foreach (var blob in blobs.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, CancellationToken.None))
        {
            names.Add(blob.Name);
        }

        return names;
    }

    private static async Task<AlbumProgress> WaitFinishedAsync(IAlbumGrain album)
    {
        var deadline = DateTime.UtcNow + AlbumTimeout;
        var progress = await album.GetProgressAsync();
        while (!progress.IsFinished && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            progress = await album.GetProgressAsync();
        }

        return progress;
    }
}
