using System.Net;
using Sair.Silo.Hosting;
using Sair.Silo.Tests.Support;
using static Sair.Silo.Tests.Kubernetes.Manifests;

namespace Sair.Silo.Tests.Kubernetes;

/// <summary>
/// A real silo process started with the environment the coordinator Deployment sets, Azurite standing in for Azure
/// Storage, answering the probes the Deployment declares.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ManifestSiloProcessTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_silo_started_with_the_manifest_environment_answers_its_probes()
    {
        var deployment = Named("Deployment", "sairgrid-silo");
        var container = Containers(deployment).Single();
        // What the cluster supplies at run time: the pod's IP, name and namespace (downward API) and the storage secret.
        var fromCluster = List(container, "env").Where(e => At(e, "valueFrom") is not null).Select(e => Str(e, "name")!).ToList();
        Assert.Equal([SiloProcess.Key(SairSiloOptions.Section, nameof(SairSiloOptions.AdvertisedIp)), "POD_NAME", "POD_NAMESPACE", "POD_IP"], fromCluster);
        var variables = ManifestSilo.Environment("sairgrid-silo", azurite.ConnectionString, $"manifest-{Guid.NewGuid():N}");

        await using var silo = SiloProcess.Start(variables);
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(HttpStatusCode.OK, (await silo.GetAsync(Str(container, "readinessProbe", "httpGet", "path")!)).Status);
        Assert.Equal(HttpStatusCode.OK, (await silo.GetAsync(Str(container, "livenessProbe", "httpGet", "path")!)).Status);
        var (metricsStatus, scrape) = await silo.GetAsync(SairHealthOptions.MetricsPath);
        Assert.Equal(HttpStatusCode.OK, metricsStatus);
        // Runtime metrics (the System.Runtime meter: GC, heap, thread pool) beside the grid's and Orleans' own.
        Assert.Matches(@"(?m)^dotnet_gc_collections_total\b", scrape);
        Assert.Matches(@"(?m)^orleans_", scrape);
        // As configured for k8s, the console logs are JSON, one object per line.
        await silo.StopAsync();
        var logLines = silo.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.TrimStart().StartsWith('{')).ToList();
        Assert.True(logLines.Count > 0, "no JSON log line in:\n" + string.Join("\n", silo.Log.Split('\n').Take(15)));
        Assert.All(logLines.Take(20), line => System.Text.Json.JsonDocument.Parse(line).Dispose());
    }
}
