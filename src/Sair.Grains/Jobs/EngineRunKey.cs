namespace Sair.Grains.Jobs;

/// <summary>The kinds of work an engine silo's slots run.</summary>
public enum EngineRunKind
{
    /// <summary>A restoration job (<see cref="IRestorationJobGrain"/>).</summary>
    Restoration,

    /// <summary>A training job (<see cref="Training.ITrainingJobGrain"/>).</summary>
    Training,
}

/// <summary>
/// Which job a run in <see cref="EngineWorker"/> belongs to: the kind and the job's grain key, so a restoration and a
/// training job with the same id never share a slot entry.
/// </summary>
public readonly record struct EngineRunKey(EngineRunKind Kind, string JobId)
{
    public override string ToString() => $"{Kind} job {JobId}";
}
