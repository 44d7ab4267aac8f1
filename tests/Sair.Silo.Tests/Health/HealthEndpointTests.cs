using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Sair.Silo.Health;
using Sair.Silo.Hosting;

namespace Sair.Silo.Tests.Health;

/// <summary>
/// The probe endpoints over real HTTP, with the two readiness inputs driven by hand: the silo lifecycle (through
/// the participant Orleans calls) and the engine flag an engine adapter sets.
/// </summary>
public sealed class HealthEndpointTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly int _port = FreePort.Next();
    private readonly SiloReadiness _silo = new();
    private readonly EngineReadiness _engine = new(hasEngine: true);
    private readonly RecordingLifecycle _lifecycle = new();
    private WebApplication? _app;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.ListenLocalhost(_port));
        builder.Services.AddSingleton(_silo);
        builder.Services.AddSingleton<IEngineReadiness>(_engine);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddPrometheusExporter());
        _app = builder.Build();
        _app.MapSairEndpoints();
        await _app.StartAsync();
        _silo.Participate(_lifecycle);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Ready_only_while_the_silo_is_active_and_the_engine_has_loaded()
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync(SairHealthOptions.ReadinessPath)).Status);

        await _lifecycle.StartAsync();
        var waitingForEngine = await GetAsync(SairHealthOptions.ReadinessPath);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, waitingForEngine.Status);
        Assert.Contains("generator", waitingForEngine.Body);

        _engine.SetReady();
        var ready = await GetAsync(SairHealthOptions.ReadinessPath);
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        // The details name the CPU kernels this process decided on (the test assembly went through the guard).
        Assert.Equal($"ready\n{Sair.Engine.Runtime.CpuKernels.Current!.Summary}", ready.Body);

        _engine.SetNotReady("GPU lost");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "GPU lost"), await GetAsync(SairHealthOptions.ReadinessPath));

        _engine.SetReady();
        await _lifecycle.StopAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync(SairHealthOptions.ReadinessPath)).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(SairHealthOptions.LivenessPath)).Status);
    }

    [Fact]
    public async Task A_coordinator_has_no_engine_to_wait_for()
    {
        Assert.True(new EngineReadiness(hasEngine: false).IsReady);
        Assert.False(new EngineReadiness(hasEngine: true).IsReady);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(SairHealthOptions.MetricsPath)).Status);
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync($"http://127.0.0.1:{_port}{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Stands in for the silo lifecycle: runs the subscribed observers when the test says so.</summary>
    private sealed class RecordingLifecycle : ISiloLifecycle
    {
        private readonly List<ILifecycleObserver> _observers = [];

        public int HighestCompletedStage { get; private set; }

        public int LowestStoppedStage { get; private set; }

        public IDisposable Subscribe(string observerName, int stage, ILifecycleObserver observer)
        {
            Assert.Equal(ServiceLifecycleStage.Active, stage);
            _observers.Add(observer);
            return new CancellationTokenSource();
        }

        public async Task StartAsync()
        {
            foreach (var observer in _observers)
            {
                await observer.OnStart(CancellationToken.None);
            }
        }

        public async Task StopAsync()
        {
            foreach (var observer in _observers)
            {
                await observer.OnStop(CancellationToken.None);
            }
        }
    }
}
