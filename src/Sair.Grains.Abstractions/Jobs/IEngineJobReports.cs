namespace Sair.Grains.Jobs;

/// <summary>
/// The reports every engine job takes from the runner of its attempts (<c>EngineJobGrain</c> in Sair.Grains
/// implements them). Every report names the attempt it belongs to; a report from a superseded attempt (a run still
/// winding down on a silo that lost the grain) is refused with false, which also tells that run to stop.
/// </summary>
[Alias("sair.IEngineJobReports")]
public interface IEngineJobReports : IGrainWithStringKey
{
    [Alias("ReportStarted")]
    Task<bool> ReportStartedAsync(int attempt, string silo);

    [Alias("ReportFailed")]
    Task<bool> ReportFailedAsync(int attempt, string reason);
}
