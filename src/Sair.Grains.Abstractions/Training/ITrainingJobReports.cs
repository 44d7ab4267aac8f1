using Sair.Grains.Jobs;

namespace Sair.Grains.Training;

/// <summary>
/// How the training runner reports back to its job grain. Every report names the attempt it belongs to; a report
/// from a superseded attempt is refused with false, which also tells that run to stop.
/// </summary>
[Alias("sair.ITrainingJobReports")]
public interface ITrainingJobReports : IEngineJobReports
{
    /// <summary>Progress; the grain persists it when it names a newer checkpoint.</summary>
    [Alias("ReportProgress")]
    Task<bool> ReportProgressAsync(int attempt, TrainingProgress progress);

    [Alias("ReportCompleted")]
    Task<bool> ReportCompletedAsync(int attempt, TrainingOutcome outcome);
}
