using Sair.Client.Grid;
using Sair.Client.Tests.Support;
using Sair.Grains.Storage;

namespace Sair.Client.Tests.Grid;

/// <summary>
/// The client's image store is the grid: bytes go up and come down through grain calls to the silos' own store (here
/// the fixture's in-memory store, which the client never holds), in chunks that stay far under Orleans' message limit.
/// </summary>
[Collection(ClientGridCollection.Name)]
public sealed class GridImageStoreTests(ClientGridFixture grid)
{
    private readonly GridImageStore _store = new(grid.Grains);

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(ClientImagePaths.ChunkSize)]
    [InlineData(ClientImagePaths.ChunkSize + 1)]
    [InlineData((3 * ClientImagePaths.ChunkSize) + 12345)]
    public async Task A_blob_goes_up_into_the_silos_store_and_comes_back_byte_for_byte(int length)
    {
        var content = new byte[length];
        new Random(length).NextBytes(content);
        var path = $"albums/transfer-{length}/inputs/photo.png";

        await _store.PutAsync(path, content, default);

        Assert.Equal(content, await grid.Images.GetAsync(path, default));
        Assert.Equal(content, await _store.GetAsync(path, default));
        Assert.True(await _store.ExistsAsync(path, default));
    }

    [Fact]
    public async Task A_missing_blob_is_a_file_not_found_naming_it()
    {
        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => _store.GetAsync("albums/none/manifest.json", default));

        Assert.Contains("albums/none/manifest.json", error.Message, StringComparison.Ordinal);
        Assert.False(await _store.ExistsAsync("albums/none/manifest.json", default));
    }

    [Theory]
    [InlineData("jobs/x/attempt-0/checkpoint-0.bin")]
    [InlineData("pools/family/ada/aligned.png")]
    [InlineData("albums/../jobs/x.bin")]
    [InlineData("/albums/x.png")]
    [InlineData("albums//x.png")]
    public async Task A_client_writes_only_under_albums(string path)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _store.PutAsync(path, [1, 2, 3], default));

        Assert.Contains("may not write", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(path, grid.Images.Paths);
    }

    [Fact]
    public async Task A_client_reads_albums_and_pools_but_not_checkpoints_or_training()
    {
        await grid.Images.PutAsync("jobs/secret/attempt-0/checkpoint-0.bin", [9], default);
        await grid.Images.PutAsync("pools/transfer/ada/aligned.png", [7], default);

        Assert.Equal([7], await _store.GetAsync("pools/transfer/ada/aligned.png", default));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _store.GetAsync("jobs/secret/attempt-0/checkpoint-0.bin", default));
        Assert.Contains("may not read", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => _store.ExistsAsync("jobs/secret/attempt-0/checkpoint-0.bin", default));
    }

    [Fact]
    public async Task An_upload_whose_length_disagrees_writes_nothing()
    {
        var upload = grid.Grains.GetGrain<IImageUploadGrain>(Guid.NewGuid());
        await upload.AppendAsync([1, 2, 3]);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => upload.CommitAsync("albums/short/inputs/a.png", 4));

        Assert.Contains("nothing was written", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("albums/short/inputs/a.png", grid.Images.Paths);
    }
}
