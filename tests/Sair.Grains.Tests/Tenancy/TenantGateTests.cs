using Microsoft.Extensions.DependencyInjection;
using System.Collections.Immutable;
using System.Text;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;
using Sair.Grains.Storage;
using Sair.Grains.Tenancy;
using Sair.Grains.Training;

namespace Sair.Grains.Tests.Tenancy;

/// <summary>A grid whose silos have a tenant signing key, so every client call needs a token.</summary>
public sealed class TenantGridFixture : IAsyncLifetime
{
    public static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();

    public GridCluster Grid { get; private set; } = null!;

    public string Work { get; } = Directory.CreateTempSubdirectory("sair-tenancy-").FullName;

    public async Task InitializeAsync() => Grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(5),
        configure: (_, silo) => silo.Services.Configure<TenancyOptions>(o => o.SigningKey = Convert.ToBase64String(Key)));

    public async Task DisposeAsync()
    {
        await Grid.DisposeAsync();
        Directory.Delete(Work, recursive: true);
    }
}

/// <summary>
/// Two tenants on one grid, each calling through the gateway with its own token (as two users' <c>sair</c> clients
/// do): each is refused the other's pool, album, images, jobs and training run, and what only silos call.
/// </summary>
public sealed class TenantGateTests(TenantGridFixture fixture) : IClassFixture<TenantGridFixture>
{
    private static readonly RestorationOptions Options = new("paper", Iterations: 10, null, 0, Seed: 7, CheckpointEvery: 5);

    private static readonly string Alice = TenantToken.Create("alice", TenantGridFixture.Key, DateTimeOffset.UtcNow.AddHours(1));
    private static readonly string Bob = TenantToken.Create("bob", TenantGridFixture.Key, DateTimeOffset.UtcNow.AddHours(1));

    private GridCluster Grid => fixture.Grid;

    [Fact]
    public async Task A_call_without_a_valid_token_is_refused_and_changes_nothing()
    {
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>("tokenless");
        var otherKey = Enumerable.Repeat((byte)9, 32).ToArray();
        var tampered = Alice.Replace(".alice.", ".bob.", StringComparison.Ordinal);
        var calls = new (string? Token, string Says)[]
        {
            (null, "carries no tenant token"),
            ("not-a-token", "malformed"),
            (TenantToken.Create("alice", otherKey, DateTimeOffset.UtcNow.AddHours(1)), "signature is not this grid's"),
            (tampered, "signature is not this grid's"),
            (TenantToken.Create("alice", TenantGridFixture.Key, DateTimeOffset.UtcNow.AddSeconds(-1)), "expired"),
        };

        foreach (var (token, says) in calls)
        {
            var refused = await Assert.ThrowsAsync<GridAccessDeniedException>(() => As(token, () => pool.EnrollAsync("ada", Photo("face:ada:1"))));
            Assert.Contains(says, refused.Message);
            Assert.Contains(TenantContext.TokenVariable, refused.Message);
        }

        // Claiming to be a silo, or naming a tenant outright, is no way round the token.
        RequestContext.Set("sair.silo", "forged");
        RequestContext.Set(TenantContext.TenantKey, "alice");
        try
        {
            await Assert.ThrowsAsync<GridAccessDeniedException>(() => pool.EnrollAsync("ada", Photo("face:ada:1")));
        }
        finally
        {
            RequestContext.Clear();
        }

        Assert.Empty(await As(Alice, () => pool.ListAsync()));
        await As(Bob, () => pool.EnrollAsync("bob", Photo("face:bob:1")));
        await Assert.ThrowsAsync<GridAccessDeniedException>(() => As(Alice, () => pool.ListAsync()));
    }

    [Fact]
    public async Task Each_tenant_is_denied_the_others_pool_album_images_and_jobs_and_keeps_its_own()
    {
        // Alice: a pool, an album uploaded through the image doors and submitted, a training run.
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>("alice-family");
        await As(Alice, () => pool.EnrollAsync("ada", Photo("face:ada:ref")));
        var transfer = Grid.Client.GetGrain<IImageTransferGrain>(0);
        var photos = ImmutableArray.Create("albums/alice-1962/inputs/0.png", "albums/alice-1962/inputs/1.png");
        foreach (var path in photos)
        {
            await As(Alice, async () => { await transfer.PutAsync(path, Photo($"face:ada:{path}")); return 0; });
        }

        var album = Grid.Client.GetGrain<IAlbumGrain>("alice-1962");
        await As(Alice, () => album.SubmitAsync(new AlbumSpec(photos, ReferenceSelection.FromPool("alice-family"), Options, "albums/alice-1962/results")));
        var done = await As(Alice, () => Eventually.WaitAsync(album.GetProgressAsync, p => p.IsFinished, TimeSpan.FromSeconds(60), "alice's album"));
        Assert.Equal(2, done.Completed);
        var results = await As(Alice, () => album.ListResultsAsync());
        var resultPath = results[0].ResultPath!;
        var training = Grid.Client.GetGrain<ITrainingJobGrain>("alice-prior");
        var data = Directory.CreateDirectory(Path.Combine(fixture.Work, "faces")).FullName;
        await As(Alice, () => training.StartAsync(TrainingJobSpec.Prior(data, Path.Combine(fixture.Work, "run")) with { TotalImages = 1_000_000 }));
        var job = Grid.Client.GetGrain<IRestorationJobGrain>(results[0].JobId);

        // Bob: every door to alice's objects is shut, with the same answer.
        var bobTries = new (string What, Func<Task> Call)[]
        {
            ("pool match", () => pool.MatchPhotoAsync(Photo("face:ada:x"), 1)),
            ("pool list", () => pool.ListAsync()),
            ("pool remove", () => pool.RemoveAsync("ada")),
            ("pool enroll", () => pool.EnrollAsync("eve", Photo("face:eve:1"))),
            ("album results", () => album.ListResultsAsync()),
            ("album progress", () => album.GetProgressAsync()),
            ("album cancel", () => album.CancelAsync()),
            ("album retry", () => album.RetryFailedAsync()),
            ("album resubmit", () => album.SubmitAsync(new AlbumSpec(photos, ReferenceSelection.FromPool("alice-family"), Options, "albums/alice-1962/results"))),
            ("album follow", async () => { await foreach (var _ in album.FollowAsync()) { break; } }),
            ("job status", () => job.GetStatusAsync()),
            ("job cancel", () => job.CancelAsync()),
            ("training status", () => training.GetStatusAsync()),
            ("training cancel", () => training.CancelAsync()),
            ("read a result", async () => { await foreach (var _ in transfer.ReadAsync(resultPath)) { } }),
            ("overwrite a result", () => transfer.PutAsync(resultPath, Photo("face:eve:fake"))),
            ("read a pool photo", async () => { await foreach (var _ in transfer.ReadAsync((await As(Alice, () => pool.ListAsync()))[0].PhotoPath)) { } }),
        };
        foreach (var (what, call) in bobTries)
        {
            var refused = await Assert.ThrowsAsync<GridAccessDeniedException>(() => As(Bob, async () => { await call(); return 0; }));
            Assert.True(refused.Message.Contains("another tenant", StringComparison.Ordinal), $"{what}: {refused.Message}");
        }

        // And the other way round: alice is refused bob's pool, album and training run.
        var bobPool = Grid.Client.GetGrain<IReferencePoolGrain>("bob-family");
        await As(Bob, () => bobPool.EnrollAsync("bob", Photo("face:bob:ref")));
        await As(Bob, async () => { await transfer.PutAsync("albums/bob-1970/inputs/0.png", Photo("face:bob:0")); return 0; });
        var bobAlbum = Grid.Client.GetGrain<IAlbumGrain>("bob-1970");
        await As(Bob, () => bobAlbum.SubmitAsync(new AlbumSpec(["albums/bob-1970/inputs/0.png"], ReferenceSelection.FromPool("bob-family"), Options, "albums/bob-1970/results")));
        var bobTraining = Grid.Client.GetGrain<ITrainingJobGrain>("bob-prior");
        await As(Bob, () => bobTraining.StartAsync(TrainingJobSpec.Prior(data, Path.Combine(fixture.Work, "bob-run")) with { TotalImages = 1_000_000 }));
        var aliceTries = new (string What, Func<Task> Call)[]
        {
            ("pool match", () => bobPool.MatchPhotoAsync(Photo("face:bob:x"), 1)),
            ("album results", () => bobAlbum.ListResultsAsync()),
            ("album cancel", () => bobAlbum.CancelAsync()),
            ("training status", () => bobTraining.GetStatusAsync()),
        };
        foreach (var (what, call) in aliceTries)
        {
            var refused = await Assert.ThrowsAsync<GridAccessDeniedException>(() => As(Alice, async () => { await call(); return 0; }));
            Assert.True(refused.Message.Contains("another tenant", StringComparison.Ordinal), $"{what}: {refused.Message}");
        }

        await As(Bob, () => bobTraining.CancelAsync());

        // Nothing of alice's changed, and she still reaches all of it.
        Assert.Single(await As(Alice, () => pool.ListAsync()));
        Assert.All(await As(Alice, () => album.ListResultsAsync()), r => Assert.Equal(JobState.Completed, r.State));
        Assert.NotEqual(Photo("face:eve:fake"), await Grid.Images.GetAsync(resultPath, default));
        Assert.Equal(JobState.Completed, (await As(Alice, () => job.GetStatusAsync())).State);
        Assert.False((await As(Alice, () => training.CancelAsync())).State is JobState.Running or JobState.Queued);
    }

    [Fact]
    public async Task An_album_stays_in_its_folder_and_its_tenants_pools()
    {
        var alicePool = Grid.Client.GetGrain<IReferencePoolGrain>("alice-only");
        await As(Alice, () => alicePool.EnrollAsync("ada", Photo("face:ada:ref")));
        var transfer = Grid.Client.GetGrain<IImageTransferGrain>(0);
        await As(Alice, async () => { await transfer.PutAsync("albums/alice-private/inputs/0.png", Photo("face:ada:secret")); return 0; });
        await As(Bob, async () => { await transfer.PutAsync("albums/bob-1/inputs/0.png", Photo("face:bob:1")); return 0; });
        var album = Grid.Client.GetGrain<IAlbumGrain>("bob-1");
        var own = ImmutableArray.Create("albums/bob-1/inputs/0.png");
        var none = new ReferenceSelection(null, null, [], WithoutIdentity: true);

        var specs = new (AlbumSpec Spec, string Says)[]
        {
            (new AlbumSpec(["albums/alice-private/inputs/0.png"], none, Options, "albums/bob-1/results"), "outside the album's folder"),
            (new AlbumSpec(own, none, Options, "albums/alice-private/results"), "outside the album's folder"),
            (new AlbumSpec(own, ReferenceSelection.FromPaths("albums/alice-private/inputs/0.png"), Options, "albums/bob-1/results"), "outside the album's folder"),
            (new AlbumSpec(own, ReferenceSelection.FromPool("alice-only"), Options, "albums/bob-1/results"), "belongs to another tenant"),
        };
        foreach (var (spec, says) in specs)
        {
            var refused = await Assert.ThrowsAsync<GridAccessDeniedException>(() => As(Bob, () => album.SubmitAsync(spec)));
            Assert.Contains(says, refused.Message);
        }

        // A job is started by its album, never by a client, and a silo's report is not a client's to send.
        var job = Grid.Client.GetGrain<IRestorationJobGrain>("bob-own-job");
        var start = await Assert.ThrowsAsync<GridAccessDeniedException>(() => As(Bob, () => job.StartAsync(
            new JobSpec("albums/alice-private/inputs/0.png", "albums/bob-1/results/x.png", none, Options))));
        Assert.Contains("not by clients", start.Message);
        var report = await Assert.ThrowsAsync<GridAccessDeniedException>(() => As(Bob, () =>
            Grid.Client.GetGrain<IRestorationJobReports>("bob-own-job").ReportFailedAsync(1, "forged")));
        Assert.Contains("not by clients", report.Message);

        // Its own album, inside its folder, goes through.
        var progress = await As(Bob, () => album.SubmitAsync(new AlbumSpec(own, none, Options, "albums/bob-1/results")));
        Assert.Equal(1, progress.Total);
    }

    [Fact]
    public void Tokens_are_signed_named_and_dated()
    {
        Assert.True(TenantToken.TryVerify(Alice, TenantGridFixture.Key, DateTimeOffset.UtcNow, out var tenant, out _));
        Assert.Equal("alice", tenant);
        Assert.Equal("alice", TenantToken.ClaimedTenant(Alice));
        Assert.False(TenantToken.TryVerify(Alice + "x", TenantGridFixture.Key, DateTimeOffset.UtcNow, out _, out var problem));
        Assert.Contains("signature", problem);
        Assert.False(TenantToken.TryVerify(Alice, TenantGridFixture.Key, DateTimeOffset.UtcNow.AddHours(2), out _, out problem));
        Assert.Contains("expired", problem);
        foreach (var bad in new[] { "", "Alice", "-a", "a-", "a.b", "a/b", new string('a', 41) })
        {
            Assert.Throws<ArgumentException>(() => TenantToken.Create(bad, TenantGridFixture.Key, DateTimeOffset.UtcNow.AddDays(1)));
        }

        Assert.Throws<ArgumentException>(() => TenantToken.Create("alice", new byte[16], DateTimeOffset.UtcNow.AddDays(1)));
        Assert.Throws<ArgumentException>(() => TenantToken.ParseKey("not base64!"));
    }

    private static byte[] Photo(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Makes <paramref name="call"/> (and only it) carry <paramref name="token"/>, as a client with SAIR_TOKEN does.</summary>
    internal static async Task<T> As<T>(string? token, Func<Task<T>> call)
    {
        if (token is null)
        {
            RequestContext.Remove(TenantContext.TokenKey);
        }
        else
        {
            RequestContext.Set(TenantContext.TokenKey, token);
        }

        try
        {
            return await call();
        }
        finally
        {
            RequestContext.Remove(TenantContext.TokenKey);
        }
    }
}
