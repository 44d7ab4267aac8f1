using Sair.Grains;

namespace Sair.Silo.Hosting;

/// <summary>The silo's HTTP port for probes and metrics (section "Sair:Health"). The paths are fixed: manifests use these.</summary>
public sealed class SairHealthOptions
{
    public const string Section = SettingKeys.Health;

    /// <summary>Liveness: 200 while the process serves HTTP.</summary>
    public const string LivenessPath = "/healthz";

    /// <summary>Readiness: 200 once the silo is active in its cluster and, on an engine silo, its generator is loaded.</summary>
    public const string ReadinessPath = "/readyz";

    /// <summary>Prometheus scrape endpoint.</summary>
    public const string MetricsPath = "/metrics";

    public const int DefaultPort = 8080;

    public int Port { get; set; } = DefaultPort;
}
