namespace Sair.Grains.Placement;

/// <summary>Silo metadata the grid reads (advertised by each silo at start-up through Orleans silo metadata).</summary>
public static class SiloMetadataKeys
{
    /// <summary>The silo's compute device, e.g. "gpu" or "cpu" (informational, for operators and dashboards).</summary>
    public const string Accelerator = "hardware.accelerator";

    /// <summary>The silo's role in the grid; only <see cref="EngineRole"/> silos run restoration jobs.</summary>
    public const string Role = "sair.role";

    public const string EngineRole = "engine";

    /// <summary>A silo that hosts pools, albums and gateways but no generator.</summary>
    public const string CoordinatorRole = "coordinator";
}
