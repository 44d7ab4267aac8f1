using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Silo.Storage;

namespace Sair.Silo.Tests.Storage;

public sealed class FileGrainStorageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sair-grainstate-").FullName;
    private readonly ServiceProvider _services = new ServiceCollection()
        .AddSerializer(serializer => serializer.AddAssembly(typeof(AlbumState).Assembly))
        .BuildServiceProvider();

    private static readonly GrainId Album = GrainId.Create("albumgrain", "holiday/2024");

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task State_written_by_one_storage_is_read_by_a_new_one_over_the_same_folder()
    {
        var written = new GrainState<AlbumState> { State = SampleAlbum("a.png", "b.png") };
        await NewStorage().WriteStateAsync("album", Album, written);

        // A new instance stands for a restarted silo: nothing but the files carries the state over.
        var read = new GrainState<AlbumState>();
        await NewStorage().ReadStateAsync("album", Album, read);

        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(["a.png", "b.png"], read.State!.Photos.Select(p => p.PhotoPath));
        Assert.Equal("out", read.State!.Spec!.OutputFolder);
    }

    [Fact]
    public async Task Missing_state_reads_as_a_fresh_default()
    {
        var read = new GrainState<AlbumState>();
        await NewStorage().ReadStateAsync("album", GrainId.Create("albumgrain", "never-written"), read);

        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.NotNull(read.State);
        Assert.Empty(read.State!.Photos);
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_refused_and_leaves_the_newer_state()
    {
        var storage = NewStorage();
        var first = new GrainState<AlbumState> { State = SampleAlbum("a.png") };
        await storage.WriteStateAsync("album", Album, first);
        var stale = new GrainState<AlbumState> { State = SampleAlbum("stale.png"), ETag = first.ETag };
        await storage.WriteStateAsync("album", Album, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("album", Album, stale));
        var fresh = new GrainState<AlbumState> { State = SampleAlbum("x.png") };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("album", Album, fresh));

        var read = new GrainState<AlbumState>();
        await storage.ReadStateAsync("album", Album, read);
        Assert.Equal(first.ETag, read.ETag);
        Assert.Equal(["a.png"], read.State!.Photos.Select(p => p.PhotoPath));
    }

    [Fact]
    public async Task Clear_removes_the_state_and_leaves_no_temporary_files()
    {
        var storage = NewStorage();
        var state = new GrainState<AlbumState> { State = SampleAlbum("a.png") };
        await storage.WriteStateAsync("album", Album, state);
        await storage.ClearStateAsync("album", Album, state);

        var read = new GrainState<AlbumState>();
        await storage.ReadStateAsync("album", Album, read);
        Assert.False(read.RecordExists);
        Assert.Empty(Directory.EnumerateFiles(_root, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Keys_with_slashes_and_very_long_keys_get_distinct_legal_file_names()
    {
        var storage = NewStorage();
        var longA = GrainId.Create("albumgrain", new string('a', 400) + "/1");
        var longB = GrainId.Create("albumgrain", new string('a', 400) + "/2");
        await storage.WriteStateAsync("album", longA, new GrainState<AlbumState> { State = SampleAlbum("one.png") });
        await storage.WriteStateAsync("album", longB, new GrainState<AlbumState> { State = SampleAlbum("two.png") });

        var read = new GrainState<AlbumState>();
        await storage.ReadStateAsync("album", longB, read);
        Assert.Equal(["two.png"], read.State!.Photos.Select(p => p.PhotoPath));
        Assert.All(Directory.EnumerateFiles(_root, "*.state", SearchOption.AllDirectories),
            file => Assert.True(Path.GetFileName(file).Length < 255));
    }

    private FileGrainStorage NewStorage() => new(
        _root, "sair-albums",
        new OrleansGrainStorageSerializer(_services.GetRequiredService<Serializer>()),
        _services.GetRequiredService<IActivatorProvider>());

    private static AlbumState SampleAlbum(params string[] photos) => new()
    {
        Spec = new AlbumSpec([.. photos], ReferenceSelection.FromPaths("ref.png"), new RestorationOptions("paper", 10, null, 0, 1, 5), "out"),
        Photos = [.. photos.Select((path, index) => new PhotoResult(index, path, $"job/{index}", JobState.NotStarted, null, null, null))],
    };
}
