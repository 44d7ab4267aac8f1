using Sair.Silo.Storage;

namespace Sair.Silo.Tests.Storage;

public sealed class FileSystemImageStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"sair-images-{Guid.NewGuid():N}");

    [Fact]
    public async Task Blobs_round_trip_are_replaced_whole_and_deleted()
    {
        var store = new FileSystemImageStore(_root);

        await store.PutAsync("albums/a/IMG_1.png", [1, 2, 3], default);
        await store.PutAsync("albums/a/IMG_1.png", [4, 5], default);

        Assert.Equal([4, 5], await store.GetAsync("albums/a/IMG_1.png", default));
        Assert.True(await store.ExistsAsync("albums/a/IMG_1.png", default));
        Assert.Equal(["IMG_1.png"], Directory.GetFiles(Path.Combine(_root, "albums", "a")).Select(Path.GetFileName));
        await store.DeleteAsync("albums/a/IMG_1.png", default);
        await store.DeleteAsync("albums/a/IMG_1.png", default);
        Assert.False(await store.ExistsAsync("albums/a/IMG_1.png", default));
        var missing = await Assert.ThrowsAsync<FileNotFoundException>(() => store.GetAsync("albums/a/IMG_1.png", default));
        Assert.Contains("albums/a/IMG_1.png", missing.Message);
    }

    [Theory]
    [InlineData("../outside.png")]
    [InlineData("albums/../../outside.png")]
    [InlineData("/etc/passwd")]
    [InlineData("")]
    public async Task Paths_that_leave_the_root_are_refused(string path)
    {
        var store = new FileSystemImageStore(_root);

        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(path, [1], default));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
