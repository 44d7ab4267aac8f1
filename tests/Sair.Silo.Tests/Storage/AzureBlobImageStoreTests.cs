using Azure.Storage.Blobs;
using Sair.Silo.Storage;
using Sair.Silo.Tests.Support;

namespace Sair.Silo.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobImageStoreTests(AzuriteFixture azurite)
{
    private AzureBlobImageStore NewStore() =>
        new(new BlobContainerClient(azurite.ConnectionString, $"images-{Guid.NewGuid():N}"));

    [Fact]
    public async Task Put_then_get_returns_the_bytes_and_a_second_put_replaces_them()
    {
        var store = NewStore();
        await store.PutAsync("albums/a/0001.png", [1, 2, 3], CancellationToken.None);
        Assert.Equal([1, 2, 3], await store.GetAsync("albums/a/0001.png", CancellationToken.None));

        await store.PutAsync("albums/a/0001.png", [9], CancellationToken.None);
        Assert.Equal([9], await store.GetAsync("albums/a/0001.png", CancellationToken.None));
    }

    [Fact]
    public async Task Exists_and_delete_follow_the_blob_and_deleting_a_missing_blob_is_fine()
    {
        var store = NewStore();
        Assert.False(await store.ExistsAsync("x/y.bin", CancellationToken.None));
        await store.PutAsync("x/y.bin", new byte[70_000], CancellationToken.None);
        Assert.True(await store.ExistsAsync("x/y.bin", CancellationToken.None));

        await store.DeleteAsync("x/y.bin", CancellationToken.None);
        await store.DeleteAsync("x/y.bin", CancellationToken.None);
        Assert.False(await store.ExistsAsync("x/y.bin", CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_blob_reads_as_FileNotFound_naming_the_path()
    {
        var missing = await Assert.ThrowsAsync<FileNotFoundException>(() => NewStore().GetAsync("no/such.png", CancellationToken.None));
        Assert.Contains("no/such.png", missing.Message);
    }

    [Fact]
    public async Task Paths_leaving_the_store_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => NewStore().PutAsync("../up.png", [1], CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => NewStore().GetAsync("/abs.png", CancellationToken.None));
    }
}
