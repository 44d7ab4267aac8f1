using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Sair.Grains.Pools;
using Sair.Grains.Storage;
using Sair.Grains.Tenancy;

namespace Sair.Grains.Tests.Tenancy;

/// <summary>
/// Sair:Limits:MaxTenantStorageBytes through a client that calls the grains directly: a tenant's uploads (album inputs
/// through both upload doors, pool photos) count against its quota; one over it is refused with nothing written and
/// the setting named; replacing a file counts it once; files gone from the store stop counting; another tenant has
/// its own quota.
/// </summary>
public sealed class TenantStorageQuotaTests : IAsyncLifetime
{
    private const int Quota = 3000;
    private GridCluster _grid = null!;

    public async Task InitializeAsync() => _grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(5),
        configure: (_, silo) =>
        {
            silo.Services.Configure<TenancyOptions>(o =>
            {
                o.SigningKey = Convert.ToBase64String(TenantGridFixture.Key);
                o.StorageRecountInterval = TimeSpan.Zero;
            });
            silo.Services.Configure<GridLimits>(o => o.MaxTenantStorageBytes = Quota);
        });

    public Task DisposeAsync() => _grid.DisposeAsync().AsTask();

    [Fact]
    public async Task A_tenants_uploads_stop_at_its_quota_and_count_again_once_removed()
    {
        var alice = TenantToken.Create("alice", TenantGridFixture.Key, DateTimeOffset.UtcNow.AddHours(1));
        var bob = TenantToken.Create("bob", TenantGridFixture.Key, DateTimeOffset.UtcNow.AddHours(1));
        var transfer = _grid.Client.GetGrain<IImageTransferGrain>(0);
        Task Put(string token, string path, int bytes) => TenantGateTests.As(token, async () => { await transfer.PutAsync(path, new byte[bytes]); return 0; });

        await Put(alice, "albums/alice-1/inputs/0.png", 1000);
        await Put(alice, "albums/alice-1/inputs/0.png", 1200);   // the same file again counts once
        var upload = _grid.Client.GetGrain<IImageUploadGrain>(Guid.NewGuid());
        await TenantGateTests.As(alice, async () => { await upload.AppendAsync(new byte[1500]); await upload.CommitAsync("albums/alice-1/inputs/1.png", 1500); return 0; });

        // 2,700 bytes held: 400 more is over 3,000, through either door, and nothing lands.
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => Put(alice, "albums/alice-1/inputs/2.png", 400));
        Assert.Contains("MaxTenantStorageBytes", refused.Message);
        Assert.Contains("nothing was written", refused.Message);
        Assert.False(await _grid.Images.ExistsAsync("albums/alice-1/inputs/2.png", default));
        var second = _grid.Client.GetGrain<IImageUploadGrain>(Guid.NewGuid());
        await Assert.ThrowsAsync<ArgumentException>(() => TenantGateTests.As(alice, async () =>
        {
            await second.AppendAsync(new byte[400]);
            await second.CommitAsync("albums/alice-1/inputs/2.png", 400);
            return 0;
        }));

        // Bob's quota is his own.
        await Put(bob, "albums/bob-1/inputs/0.png", 2500);

        // A pool photo counts too: alice's enrolment over the quota is refused and the pool stays empty.
        var pool = _grid.Client.GetGrain<IReferencePoolGrain>("alice-family");
        var enrol = await Assert.ThrowsAsync<ArgumentException>(() => TenantGateTests.As(alice, () => pool.EnrollAsync("ada", Encoding.UTF8.GetBytes("face:ada:1" + new string('x', 400)))));
        Assert.Contains("MaxTenantStorageBytes", enrol.Message);
        Assert.Empty(await TenantGateTests.As(alice, () => pool.ListAsync()));

        // Once a file is gone from the store its bytes stop counting.
        await _grid.Images.DeleteAsync("albums/alice-1/inputs/1.png", default);
        await Put(alice, "albums/alice-1/inputs/2.png", 400);
        Assert.True(await _grid.Images.ExistsAsync("albums/alice-1/inputs/2.png", default));
    }
}
