using Sair.Grains;

namespace Sair.Silo.Hosting;

/// <summary>The silo's HTTP port for probes and metrics (section "Sair:Health"). The paths are fixed: manifests use these.</summary>
public sealed class SairHealthOptions
{
    public const string Section = SettingKeys.Health;

    /// <summary><see cref="HealthEndpoints.Liveness"/>.</summary>
    public const string LivenessPath = HealthEndpoints.Liveness;

    /// <summary><see cref="HealthEndpoints.Readiness"/>.</summary>
    public const string ReadinessPath = HealthEndpoints.Readiness;

    /// <summary><see cref="HealthEndpoints.Metrics"/>.</summary>
    public const string MetricsPath = HealthEndpoints.Metrics;

    public const int DefaultPort = 8080;

    public int Port { get; set; } = DefaultPort;
}
