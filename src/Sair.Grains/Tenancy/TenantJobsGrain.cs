using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Jobs;
using Sair.Grains.Training;

namespace Sair.Grains.Tenancy;

/// <summary>
/// The jobs one tenant runs (key = tenant), capped by <see cref="GridLimits.MaxTenantJobs"/>: albums ask before they
/// start faces and training jobs before they start, and release when a job finishes. A job whose release was lost (a
/// silo died between the finish and the call) is found when the tenant is at its cap: its status says it finished.
/// </summary>
[Alias("sair.ITenantJobsGrain")]
public interface ITenantJobsGrain : IGrainWithStringKey
{
    /// <summary>Grants as many of <paramref name="jobs"/> as the cap leaves room for (those already held always); returns the granted ones.</summary>
    [Alias("Acquire")]
    Task<ImmutableArray<string>> AcquireAsync(ImmutableArray<string> jobs);

    [Alias("Release")]
    Task ReleaseAsync(string job);
}

/// <summary>The names under which <see cref="ITenantJobsGrain"/> holds jobs.</summary>
public static class TenantJobs
{
    public static string Restoration(string jobId) => $"restoration:{jobId}";

    public static string Training(string jobId) => $"training:{jobId}";
}

[GenerateSerializer, Alias("sair.TenantJobsState")]
public sealed class TenantJobsState
{
    [Id(0)] public HashSet<string> Running { get; set; } = [];
}

public sealed class TenantJobsGrain(
    [PersistentState("jobs", GridStorage.Tenants)] IPersistentState<TenantJobsState> jobs,
    IOptions<GridLimits> limits,
    ILogger<TenantJobsGrain> logger) : Grain, ITenantJobsGrain
{
    private HashSet<string> Running => jobs.State.Running;

    public async Task<ImmutableArray<string>> AcquireAsync(ImmutableArray<string> wanted)
    {
        var cap = limits.Value.MaxTenantJobs;
        var fresh = wanted.Where(job => !Running.Contains(job)).Distinct(StringComparer.Ordinal).ToList();
        if (fresh.Count > 0 && Running.Count + fresh.Count > cap)
        {
            await ForgetFinishedAsync();
        }

        var granted = fresh.Take(Math.Max(0, cap - Running.Count)).ToList();
        if (granted.Count > 0)
        {
            Running.UnionWith(granted);
            await jobs.WriteStateAsync();
        }

        return [.. wanted.Where(Running.Contains)];
    }

    public async Task ReleaseAsync(string job)
    {
        if (Running.Remove(job))
        {
            await jobs.WriteStateAsync();
        }
    }

    /// <summary>Drops held jobs that have finished (their release never arrived).</summary>
    private async Task ForgetFinishedAsync()
    {
        var checks = Running.Select(async job =>
        {
            var (kind, id) = (job[..job.IndexOf(':', StringComparison.Ordinal)], job[(job.IndexOf(':', StringComparison.Ordinal) + 1)..]);
            var state = kind == "training"
                ? (await GrainFactory.GetGrain<ITrainingJobGrain>(id).GetStatusAsync()).State
                : (await GrainFactory.GetGrain<IRestorationJobGrain>(id).GetStatusAsync()).State;
            return (Job: job, Finished: state.IsFinished());
        }).ToList();
        var finished = (await Task.WhenAll(checks)).Where(c => c.Finished).Select(c => c.Job).ToList();
        if (finished.Count > 0)
        {
            logger.LogInformation("Tenant {Tenant}: {Count} finished job(s) had not been released", this.GetPrimaryKeyString(), finished.Count);
            Running.ExceptWith(finished);
            await jobs.WriteStateAsync();
        }
    }
}
