using System.Diagnostics;

namespace Sair.Grains.Telemetry;

/// <summary>
/// The grid's telemetry vocabulary, shared by silos and clients: the name of its <see cref="System.Diagnostics.Metrics.Meter"/>
/// and <see cref="ActivitySource"/> (hosts subscribe to it), the metric tag names, and the activity source a client's
/// traces start from so that a submission and every job it makes are one trace. The instruments themselves live on the
/// silo side (<c>GridMetrics</c> in Sair.Grains).
/// </summary>
public static class GridTelemetry
{
    /// <summary>Name of the meter and of the activity source; hosts subscribe to it.</summary>
    public const string Name = "SairGrid";

    public const string PresetTag = "sair.preset";
    public const string OutcomeTag = "sair.outcome";
    public const string SiloTag = "sair.silo";

    public static readonly ActivitySource ActivitySource = new(Name);
}
