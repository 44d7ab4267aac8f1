namespace Sair.Grains;

/// <summary>
/// The HTTP paths every silo serves on its health port (<see cref="SettingKeys.HealthPort"/>), for Kubernetes probes,
/// Prometheus and anything that starts a silo and waits for it (the bench, the tests). Fixed: manifests use these.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>Liveness: 200 while the process serves HTTP.</summary>
    public const string Liveness = "/healthz";

    /// <summary>Readiness: 200 once the silo is active in its cluster and, on an engine silo, its generator is loaded.</summary>
    public const string Readiness = "/readyz";

    /// <summary>Prometheus scrape endpoint.</summary>
    public const string Metrics = "/metrics";
}
