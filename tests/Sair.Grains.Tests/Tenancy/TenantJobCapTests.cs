using System.Collections.Immutable;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Storage;
using Sair.Grains.Tenancy;
using Sair.Grains.Training;

namespace Sair.Grains.Tests.Tenancy;

/// <summary>
/// Sair:Limits:MaxTenantJobs on a grid with tenants and two engine slots, capped at one job per tenant: a tenant's
/// big album runs one face at a time and leaves the other slot to another tenant, whose one-face album finishes first;
/// a training run over the cap is refused with the setting named.
/// </summary>
public sealed class TenantJobCapTests : IAsyncLifetime
{
    private static readonly RestorationOptions Options = new("paper", Iterations: 30, null, 0, Seed: 7, CheckpointEvery: 10);
    private static readonly ReferenceSelection NoReference = new(null, null, [], WithoutIdentity: true);

    private readonly string _work = Directory.CreateTempSubdirectory("sair-tenant-cap-").FullName;
    private GridCluster _grid = null!;

    public async Task InitializeAsync() => _grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(15),
        configure: (_, silo) =>
        {
            silo.Services.Configure<TenancyOptions>(o => o.SigningKey = Convert.ToBase64String(TenantGridFixture.Key));
            silo.Services.Configure<GridLimits>(o => o.MaxTenantJobs = 1);
        });

    public async Task DisposeAsync()
    {
        await _grid.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task A_tenant_runs_at_most_its_cap_and_another_tenant_is_not_held_up_by_its_backlog()
    {
        var alice = TenantToken.Create("alice", TenantGridFixture.Key, DateTimeOffset.UtcNow.AddHours(1));
        var bob = TenantToken.Create("bob", TenantGridFixture.Key, DateTimeOffset.UtcNow.AddHours(1));
        var aliceAlbum = await SubmitAsync(alice, "alice-big", 5);

        // Alice holds her one place: a training run of hers is refused until a job of hers finishes.
        var training = _grid.Client.GetGrain<ITrainingJobGrain>("alice-prior");
        var spec = TrainingJobSpec.Prior(Directory.CreateDirectory(Path.Combine(_work, "faces")).FullName, Path.Combine(_work, "run"));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => TenantGateTests.As(alice, () => training.StartAsync(spec)));
        Assert.Contains("MaxTenantJobs", refused.Message);

        var bobAlbum = await SubmitAsync(bob, "bob-small", 1);
        var mostAtOnce = 0;
        var bobFinishedFirst = false;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (DateTime.UtcNow > deadline)
            {
                var results = await TenantGateTests.As(alice, aliceAlbum.ListResultsAsync);
                Assert.Fail("the albums did not finish: " + string.Join("; ", results.Select(r => $"{r.Index} {r.State} {r.Error}"))
                    + $" | bob {await TenantGateTests.As(bob, bobAlbum.GetProgressAsync)} | runs {string.Join(",", _grid.Recorder.Runs.Select(r => r.JobId))}");
            }

            var finished = _grid.Recorder.Finishes.Select(f => f.JobId).ToHashSet();
            var aliceRunning = _grid.Recorder.Runs.Select(r => r.JobId).Distinct().Count(id => id.StartsWith("alice-big/", StringComparison.Ordinal) && !finished.Contains(id));
            mostAtOnce = Math.Max(mostAtOnce, aliceRunning);
            var aliceProgress = await TenantGateTests.As(alice, aliceAlbum.GetProgressAsync);
            var bobProgress = await TenantGateTests.As(bob, bobAlbum.GetProgressAsync);
            bobFinishedFirst |= bobProgress.IsFinished && !aliceProgress.IsFinished;
            if (aliceProgress.IsFinished && bobProgress.IsFinished)
            {
                Assert.Equal((5, 1), (aliceProgress.Completed, bobProgress.Completed));
                break;
            }

            await Task.Delay(20);
        }

        Assert.Equal(1, mostAtOnce);
        Assert.True(bobFinishedFirst, "bob's one face waited for alice's album");

        // Her album done, her place is free again.
        var started = await TenantGateTests.As(alice, () => training.StartAsync(spec with { TotalImages = 64 }));
        Assert.NotEqual(JobState.NotStarted, started.State);
    }

    private async Task<IAlbumGrain> SubmitAsync(string token, string albumId, int photos)
    {
        var transfer = _grid.Client.GetGrain<IImageTransferGrain>(0);
        var paths = ImmutableArray.CreateRange(Enumerable.Range(0, photos).Select(i => $"albums/{albumId}/inputs/{i}.png"));
        foreach (var path in paths)
        {
            await TenantGateTests.As(token, async () => { await transfer.PutAsync(path, Encoding.UTF8.GetBytes($"face:x:{path}")); return 0; });
        }

        var album = _grid.Client.GetGrain<IAlbumGrain>(albumId);
        await TenantGateTests.As(token, () => album.SubmitAsync(new AlbumSpec(paths, NoReference, Options, $"albums/{albumId}/results")));
        return album;
    }
}
