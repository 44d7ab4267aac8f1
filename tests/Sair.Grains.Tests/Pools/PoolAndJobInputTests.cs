using System.Text;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;

namespace Sair.Grains.Tests.Pools;

/// <summary>What the pool grain and the engine worker refuse, whoever calls them: cut-off photos, unsafe names.</summary>
public sealed class PoolAndJobInputTests(SingleEngineGridFixture fixture) : IClassFixture<SingleEngineGridFixture>
{
    // SOI, an APP0 stub, a scan (SOS) with entropy-coded bytes (FF 00 is a stuffed FF, FF D0 a restart), then EOI.
    private static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9];

    [Fact]
    public void A_jpeg_needs_an_end_of_image_after_its_last_scan_and_a_png_its_iend_chunk()
    {
        Assert.Null(ImageCompleteness.Problem(Jpeg));
        Assert.Contains("truncated JPEG", ImageCompleteness.Problem(Jpeg[..^2]));
        Assert.Contains("truncated JPEG", ImageCompleteness.Problem(Jpeg[..12]));
        // A thumbnail's end marker before the main scan does not make a cut-off main image whole.
        byte[] thumbnailThenCut = [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x04, 0xFF, 0xD9, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34];
        Assert.Contains("truncated JPEG", ImageCompleteness.Problem(thumbnailThenCut));
        // Bytes after the end (a camera's trailer) are fine.
        Assert.Null(ImageCompleteness.Problem([.. Jpeg, 0x00, 0x00, 0x41]));

        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. Encoding.ASCII.GetBytes("....IHDR....IDAT....IEND....")];
        Assert.Null(ImageCompleteness.Problem(png));
        Assert.Contains("truncated PNG", ImageCompleteness.Problem(png[..^8]));
        // Other formats (and the fake engine's text photos) are left to their decoders.
        Assert.Null(ImageCompleteness.Problem("face:ada:x"u8));
    }

    [Fact]
    public async Task The_pool_grain_refuses_unsafe_pool_names_and_unprintable_or_huge_person_names_without_echoing_them()
    {
        var photo = Encoding.UTF8.GetBytes("face:ada:x");
        var huge = new string('p', 10_000);

        var pool = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Grid.Client.GetGrain<IReferencePoolGrain>(huge).EnrollAsync("ada", photo));
        Assert.Contains("is not valid", pool.Message);
        Assert.True(pool.Message.Length < 400, $"the refusal echoes the whole name ({pool.Message.Length} characters)");
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Grid.Client.GetGrain<IReferencePoolGrain>("../up").EnrollAsync("ada", photo));
        var names = fixture.Grid.Client.GetGrain<IReferencePoolGrain>("names");
        await Assert.ThrowsAsync<ArgumentException>(() => names.EnrollAsync(new string('x', 201), photo));
        await Assert.ThrowsAsync<ArgumentException>(() => names.EnrollAsync("ada\u0007", photo));
        Assert.Empty(await names.ListAsync());
        Assert.Equal("Ada Lovelace", (await names.EnrollAsync("Ada Lovelace", photo)).Person);
    }

    [Fact]
    public async Task A_truncated_reference_is_refused_by_the_pool_and_a_truncated_input_fails_its_job()
    {
        var pool = fixture.Grid.Client.GetGrain<IReferencePoolGrain>("truncated");
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => pool.EnrollAsync("ada", Jpeg[..12]));
        Assert.Contains("truncated JPEG", refused.Message);
        Assert.Empty(await pool.ListAsync());

        await fixture.Grid.Images.PutAsync("in/truncated.jpg", Jpeg[..12], default);
        var job = fixture.Grid.Client.GetGrain<IRestorationJobGrain>("truncated-input");
        await job.StartAsync(new JobSpec("in/truncated.jpg", "out/truncated.png", ReferenceSelection.None(),
            new RestorationOptions("paper", 3, null, 0, 1, 3)));
        var status = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(10), "the job to end");
        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains("truncated JPEG", status.Error);
    }
}
