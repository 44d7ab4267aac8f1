using Sair.Client.Output;
using Sair.Client.Photos;

namespace Sair.Client.Tests.Output;

public sealed class OutputFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sair-out-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("../x.png")]
    [InlineData("a/../../x.png")]
    [InlineData("/etc/passwd")]
    [InlineData("")]
    public void Paths_leaving_the_folder_are_refused(string path)
    {
        var folder = new OutputFolder(Path.Combine(_root, "out"));

        Assert.Throws<ArgumentException>(() => folder.Resolve(path));
    }

    [Fact]
    public async Task A_write_replaces_the_file_whole_and_leaves_no_temporary_file()
    {
        var folder = new OutputFolder(Path.Combine(_root, "out"));

        await folder.WriteAsync("cmp/a_00.png", [1, 2, 3], default);
        await folder.WriteAsync("cmp/a_00.png", [4, 5], default);

        Assert.Equal([4, 5], await File.ReadAllBytesAsync(Path.Combine(_root, "out", "cmp", "a_00.png")));
        Assert.Single(Directory.EnumerateFiles(Path.Combine(_root, "out"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_cancelled_write_leaves_neither_the_target_nor_a_temporary_file()
    {
        var folder = new OutputFolder(Path.Combine(_root, "out"));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => folder.WriteAsync("report.json", new byte[1 << 20], cancelled.Token));

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "out"), "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("photo.jpg", "photo")]
    [InlineData("Grandma (1962).png", "Grandma (1962)")]
    [InlineData("café*?.png", "café__")]
    [InlineData(@"..\..\x.png", null)]
    [InlineData("..x.png", null)]
    [InlineData(".hidden.png", null)]
    [InlineData("c:x.png", null)]
    [InlineData("tab\there.png", null)]
    public void File_stems_are_made_safe_or_refused(string fileName, string? expected)
    {
        Assert.Equal(expected, SafeNames.Stem(fileName));
    }
}
