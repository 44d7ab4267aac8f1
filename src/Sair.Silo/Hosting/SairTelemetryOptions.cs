using Sair.Grains;

namespace Sair.Silo.Hosting;

/// <summary>Where metrics and traces go (section "Sair:Telemetry"). Prometheus scraping is always on (<see cref="SairHealthOptions"/>).</summary>
public sealed class SairTelemetryOptions
{
    public const string Section = SettingKeys.Telemetry;

    /// <summary>OTLP collector endpoint (e.g. http://otel-collector:4317); empty: no OTLP export and no tracing.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>The service.name resource attribute every silo reports under.</summary>
    public string ServiceName { get; set; } = "sairgrid-silo";
}
