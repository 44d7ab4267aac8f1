using System.Collections.Immutable;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;
using Sair.Grains.Storage;
using Sair.Grains.Tenancy;

namespace Sair.Grains.Tests.Tenancy;

/// <summary>
/// The grid's own work under the tenant gate: an album of a tenant survives an engine silo's death mid-way, every face
/// restored once and the cut-off runs resumed from their checkpoints on the surviving engine. (Grain timer ticks under
/// the gate are held by <see cref="TenantJobCapTests"/>, whose waiting faces only the album's reconciler starts.)
/// </summary>
public sealed class TenantFailoverTests
{
    [Fact]
    public async Task A_tenants_album_survives_an_engine_silo_dying_mid_way()
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(10),
            configure: (_, silo) => silo.Services.Configure<TenancyOptions>(o => o.SigningKey = Convert.ToBase64String(TenantGridFixture.Key)));
        var alice = TenantToken.Create("alice", TenantGridFixture.Key, DateTimeOffset.UtcNow.AddHours(1));
        var pool = grid.Client.GetGrain<IReferencePoolGrain>("alice-family");
        await TenantGateTests.As(alice, () => pool.EnrollAsync("ada", Encoding.UTF8.GetBytes("face:ada:ref")));
        var transfer = grid.Client.GetGrain<IImageTransferGrain>(0);
        var photos = ImmutableArray.CreateRange(Enumerable.Range(0, 12).Select(i => $"albums/alice-failover/inputs/{i}.png"));
        foreach (var path in photos)
        {
            await TenantGateTests.As(alice, async () => { await transfer.PutAsync(path, Encoding.UTF8.GetBytes($"face:ada:{path}")); return 0; });
        }

        var album = grid.Client.GetGrain<IAlbumGrain>("alice-failover");
        var options = new RestorationOptions("paper", Iterations: 60, null, 0, Seed: 7, CheckpointEvery: 5);
        grid.Recorder.LimitFinishes("Silo_2", 1);
        await TenantGateTests.As(alice, () => album.SubmitAsync(new AlbumSpec(photos, ReferenceSelection.FromPool("alice-family"), options, "albums/alice-failover/results")));
        await Eventually.WaitAsync(
            () => Task.FromResult(grid.Recorder.Runs.Count(r => r.Silo == "Silo_2" && grid.Recorder.Finishes.All(f => f.JobId != r.JobId))),
            running => running > 0 && grid.Recorder.Finishes.Any(f => f.Silo == "Silo_2")
                && grid.Images.Paths.Any(p => p.Contains("/checkpoint-", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "Silo_2 to finish a face and checkpoint another");
        await grid.Cluster.KillSiloAsync(grid.Silo("Silo_2"));

        var progress = await TenantGateTests.As(alice, () => Eventually.WaitAsync(
            album.GetProgressAsync, p => p.IsFinished, TimeSpan.FromSeconds(120), "alice's album to finish after the failover"));
        var results = await TenantGateTests.As(alice, album.ListResultsAsync);
        Assert.True(progress.Completed == 12, string.Join("; ", results.Where(r => r.State != JobState.Completed).Select(r => $"{r.Index} {r.State} {r.Error}")));
        Assert.All(results, r => Assert.Equal(1, grid.Images.Puts[r.ResultPath!]));
        Assert.Contains(grid.Recorder.Runs, r => r.FromIteration > 0 && r.Silo == "Silo_1");
    }
}
