using System.Text;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;

namespace Sair.Grains.Tests.Placement;

public sealed class EnginePlacementTests
{
    private static readonly RestorationOptions Options = new("paper", Iterations: 10, null, 0, Seed: 1, CheckpointEvery: 5);

    [Fact]
    public async Task Fifty_jobs_from_a_client_run_only_on_engine_silos_and_on_both_of_them()
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(5));
        var jobIds = Enumerable.Range(0, 50).Select(i => $"placement-{i:D2}").ToList();
        foreach (var id in jobIds)
        {
            await grid.Images.PutAsync($"in/{id}.png", Encoding.UTF8.GetBytes($"photo {id}"), default);
        }

        await grid.Images.PutAsync("refs/a.png", Encoding.UTF8.GetBytes("aligned:a"), default);
        var started = await Task.WhenAll(jobIds.Select(id => grid.Client.GetGrain<IRestorationJobGrain>(id)
            .StartAsync(new JobSpec($"in/{id}.png", $"out/{id}.png", ReferenceSelection.FromPaths("refs/a.png"), Options))));
        Assert.All(started, s => Assert.Equal(1, s.Attempt));

        var statuses = await Task.WhenAll(jobIds.Select(id => Eventually.WaitAsync(
            () => grid.Client.GetGrain<IRestorationJobGrain>(id).GetStatusAsync(),
            s => s.State.IsFinished(), TimeSpan.FromSeconds(30), $"job {id} to finish")));

        Assert.All(statuses, s => Assert.Equal(JobState.Completed, s.State));
        Assert.DoesNotContain(statuses, s => s.Silo == GridCluster.CoordinatorSilo);
        var runsPerSilo = grid.Recorder.Runs.GroupBy(r => r.Silo).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["Silo_1", "Silo_2"], runsPerSilo.Keys.Order());
        Assert.Equal(50, runsPerSilo.Values.Sum());
        // Least-loaded placement spreads the burst; pure chance would rarely leave one silo under a fifth.
        Assert.All(runsPerSilo.Values, count => Assert.InRange(count, 10, 40));
        foreach (var id in jobIds)
        {
            var result = await grid.Images.GetAsync($"out/{id}.png", default);
            Assert.Equal(FakeRestorationEngine.ExpectedResult(Encoding.UTF8.GetBytes($"photo {id}"), 1, 10), result);
        }
    }

    [Fact]
    public async Task Placement_follows_free_engine_slots_not_just_silo_count()
    {
        await using var grid = await GridCluster.StartAsync(
            silos: 3, iterationTime: TimeSpan.FromMilliseconds(5), slots: silo => silo == "Silo_1" ? 3 : 1);
        await grid.Images.PutAsync("refs/a.png", Encoding.UTF8.GetBytes("aligned:a"), default);
        var jobIds = Enumerable.Range(0, 40).Select(i => $"slots-{i:D2}").ToList();
        foreach (var id in jobIds)
        {
            await grid.Images.PutAsync($"in/{id}.png", Encoding.UTF8.GetBytes($"photo {id}"), default);
        }

        await Task.WhenAll(jobIds.Select(id => grid.Client.GetGrain<IRestorationJobGrain>(id)
            .StartAsync(new JobSpec($"in/{id}.png", $"out/{id}.png", ReferenceSelection.FromPaths("refs/a.png"), Options))));
        await Task.WhenAll(jobIds.Select(id => Eventually.WaitAsync(
            () => grid.Client.GetGrain<IRestorationJobGrain>(id).GetStatusAsync(),
            s => s.State == JobState.Completed, TimeSpan.FromSeconds(30), $"job {id} to complete")));

        // Three slots against one: about three jobs in four belong on Silo_1 (an even split would give 20).
        var onSilo1 = grid.Recorder.Runs.Count(r => r.Silo == "Silo_1");
        Assert.InRange(onSilo1, 25, 35);
    }

    [Fact]
    public async Task Without_an_engine_silo_a_job_is_refused_with_what_to_start()
    {
        await using var grid = await GridCluster.StartAsync(silos: 1, iterationTime: TimeSpan.FromMilliseconds(5));

        var error = await Assert.ThrowsAsync<OrleansException>(() => grid.Client.GetGrain<IRestorationJobGrain>("nowhere")
            .StartAsync(new JobSpec("in/x.png", "out/x.png", ReferenceSelection.FromPaths("refs/a.png"), Options)));

        Assert.Contains("sair.role=engine", error.Message);
    }
}
