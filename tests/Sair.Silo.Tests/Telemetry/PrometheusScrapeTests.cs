using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Sair.Grains.Telemetry;
using Sair.Silo.Health;
using Sair.Silo.Hosting;

namespace Sair.Silo.Tests.Telemetry;

/// <summary>
/// The grid's instruments as Prometheus names them on the silo's scrape endpoint, checked against the series the
/// Grafana dashboard queries: a renamed instrument or a unit change that renames a series fails here, not in Grafana.
/// </summary>
public sealed class PrometheusScrapeTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly int _port = FreePort.Next();
    private WebApplication? _app;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.ListenLocalhost(_port));
        builder.Services.AddSingleton<SiloReadiness>();
        builder.Services.AddSingleton<IEngineReadiness>(new EngineReadiness(hasEngine: false));
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(GridTelemetry.Name).AddPrometheusExporter());
        _app = builder.Build();
        _app.MapSairEndpoints();
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_series_the_dashboard_queries_is_exported()
    {
        var tags = new TagList { { GridTelemetry.PresetTag, "scrape-test" }, { GridTelemetry.OutcomeTag, "completed" } };
        GridMetrics.JobsSubmitted.Add(1, tags);
        GridMetrics.JobsStarted.Add(1, tags);
        GridMetrics.JobsCompleted.Add(1, tags);
        GridMetrics.JobsFailed.Add(1, tags);
        GridMetrics.Iterations.Add(5, tags);
        GridMetrics.JobDuration.Record(3.5, tags);
        GridMetrics.IdentitySimilarity.Record(0.93, tags);
        GridMetrics.TrainingImages.Add(64);
        GridMetrics.TrainingFfd("engine-under-test", 0.19);
        using var engine = GridMetrics.TrackEngine("engine-under-test", () => (1, 2));

        var scrape = await Http.GetStringAsync($"http://127.0.0.1:{_port}{SairHealthOptions.MetricsPath}");
        var exported = Regex.Matches(scrape, @"^(sair_[a-z_]+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();

        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "k8s", "base", "grafana", "sairgrid-dashboard.json")));
        var queried = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .SelectMany(t => Regex.Matches(t.GetProperty("expr").GetString()!, @"sair_[a-z_]+").Select(m => m.Value))
            .ToHashSet();

        // Tag names become labels (dots to underscores); everything else the dashboard names must be a series.
        var labels = new[] { GridTelemetry.PresetTag, GridTelemetry.OutcomeTag, GridTelemetry.SiloTag }.Select(t => t.Replace('.', '_')).ToHashSet();
        var series = queried.Except(labels).ToList();
        Assert.True(series.Count >= 7, $"the dashboard queries only {string.Join(", ", series)}");
        Assert.All(series, name => Assert.True(exported.Contains(name), $"the dashboard queries {name}, the silo exports {string.Join(", ", exported)}"));
        Assert.All(queried.Intersect(labels), label => Assert.Contains($"{label}=\"", scrape));
        Assert.Matches(@"sair_engine_queue_depth\{[^}]*sair_silo=""engine-under-test""[^}]*\} 2\b", scrape);
        Assert.DoesNotMatch(@"[{,](sair_)?job_id=", scrape);
        // Active and queued jobs are up-down counters (counts that add up across silos), exported as Prometheus gauges.
        Assert.Contains("# TYPE sair_engine_active_jobs gauge", scrape);
    }
}
