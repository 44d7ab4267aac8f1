using System.Globalization;
using Sair.Grains.Placement;
using Sair.Silo.Hosting;
using Sair.Silo.Tests.Support;
using static Sair.Silo.Tests.Kubernetes.Manifests;

namespace Sair.Silo.Tests.Kubernetes;

/// <summary>
/// The manifests against the code they deploy: paths, ports and option names come from the silo's own constants
/// and options types, so changing one side without the other fails here.
/// </summary>
public sealed class ManifestTests
{
    private static string SiloVariable(string property) => $"{SiloProcess.Env(SairSiloOptions.Section)}__{property}";

    [Fact]
    public void Every_manifest_and_embedded_config_parses()
    {
        Assert.NotEmpty(YamlFiles);
        foreach (var file in YamlFiles)
        {
            var documents = Load(File.ReadAllText(file));
            Assert.True(documents.Count > 0, $"{file} holds no document");
            Assert.All(documents, d => Assert.False(string.IsNullOrEmpty(Str(d, "kind")), $"{file}: a document without kind"));
        }

        // Configuration files carried inside ConfigMaps (collector, Prometheus) must parse too.
        foreach (var configMap in OfKind("ConfigMap"))
        {
            foreach (var (key, value) in Map(configMap, "data").Where(p => p.Key.EndsWith(".yaml") || p.Key.EndsWith(".yml")))
            {
                Assert.True(Load((string)value!).Count == 1, $"{Str(configMap, "metadata", "name")}/{key} does not parse");
            }
        }

        ParseJson(Path.Combine(Root, "base", "grafana", "sairgrid-dashboard.json"));
    }

    [Fact]
    public void Kustomizations_name_only_files_that_exist()
    {
        var kustomizations = All.Where(d => Str(d.Document, "kind") == "Kustomization").ToList();
        Assert.Equal(3, kustomizations.Count);
        foreach (var (file, kustomization) in kustomizations)
        {
            var folder = Path.GetDirectoryName(file)!;
            foreach (var resource in List(kustomization, "resources").Cast<string>())
            {
                var path = Path.Combine(folder, resource);
                Assert.True(File.Exists(path) || File.Exists(Path.Combine(path, "kustomization.yaml")), $"{file}: {resource} is missing");
            }

            foreach (var generated in List(kustomization, "configMapGenerator").SelectMany(g => List(g, "files")).Cast<string>())
            {
                Assert.True(File.Exists(Path.Combine(folder, generated)), $"{file}: {generated} is missing");
            }
        }
    }

    [Fact]
    public void The_engine_deployment_requests_a_GPU_and_advertises_itself_as_a_GPU_engine_silo()
    {
        var engine = Named("Deployment", "sairgrid-engine");
        var container = Assert.Single(Containers(engine));
        Assert.Equal("1", Str(container, "resources", "limits", "nvidia.com/gpu"));
        Assert.NotEmpty(Map(engine, "spec", "template", "spec", "nodeSelector"));
        Assert.Contains(List(engine, "spec", "template", "spec", "tolerations"), t => Str(t, "key") == "nvidia.com/gpu");

        var environment = Manifests.Environment(container);
        Assert.Equal(SiloMetadataKeys.EngineRole, environment[SiloVariable(nameof(SairSiloOptions.Role))]);
        Assert.Equal("gpu", environment[SiloVariable(nameof(SairSiloOptions.Accelerator))]);
    }

    [Fact]
    public void Probes_and_ports_are_the_ones_the_silo_serves()
    {
        Assert.Equal(2, SiloDeployments.Count());
        foreach (var deployment in SiloDeployments)
        {
            var container = Assert.Single(Containers(deployment));
            var environment = Manifests.Environment(container);
            var ports = List(container, "ports").ToDictionary(p => Str(p, "name")!, p => int.Parse(Str(p, "containerPort")!));
            int Configured(string variable, int fallback) =>
                environment.TryGetValue(variable, out var value) && value is not null ? int.Parse(value) : fallback;

            var defaults = new SairSiloOptions();
            Assert.Equal(Configured($"{SiloProcess.Env(SairHealthOptions.Section)}__{nameof(SairHealthOptions.Port)}", SairHealthOptions.DefaultPort), ports["health"]);
            Assert.Equal(Configured(SiloVariable(nameof(SairSiloOptions.SiloPort)), defaults.SiloPort), ports["silo"]);
            Assert.Equal(Configured(SiloVariable(nameof(SairSiloOptions.GatewayPort)), defaults.GatewayPort), ports["gateway"]);

            var name = Str(deployment, "metadata", "name");
            Assert.Equal(SairHealthOptions.LivenessPath, Str(container, "livenessProbe", "httpGet", "path"));
            Assert.Equal(SairHealthOptions.ReadinessPath, Str(container, "readinessProbe", "httpGet", "path"));
            Assert.Equal(SairHealthOptions.LivenessPath, Str(container, "startupProbe", "httpGet", "path"));
            foreach (var probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
            {
                Assert.True(Str(container, probe, "httpGet", "port") == "health", $"{name}: {probe} must use the health port");
            }
        }

        var scrape = Load(Str(Named("ConfigMap", "sairgrid-prometheus"), "data", "prometheus.yml")!).Single();
        var silos = List(scrape, "scrape_configs").Single(j => Str(j, "job_name") == "sairgrid-silos");
        Assert.Equal(SairHealthOptions.MetricsPath, Str(silos, "metrics_path"));
    }

    [Fact]
    public void Services_and_disruption_budgets_select_existing_pods_and_ports()
    {
        var pods = SiloDeployments.Select(d => (
            Labels: Map(d, "spec", "template", "metadata", "labels"),
            Ports: List(Containers(d).Single(), "ports").Select(p => Str(p, "name")).ToHashSet())).ToList();
        static bool Selects(Dictionary<string, object?> selector, Dictionary<string, object?> labels) =>
            selector.All(s => labels.TryGetValue(s.Key, out var v) && Equals(v, s.Value));

        foreach (var service in OfKind("Service").Where(s => Str(s, "metadata", "name")!.StartsWith("sairgrid-")))
        {
            var selected = pods.Where(p => Selects(Map(service, "spec", "selector"), p.Labels)).ToList();
            Assert.True(selected.Count > 0, $"service {Str(service, "metadata", "name")} selects no silo pod");
            foreach (var port in List(service, "spec", "ports"))
            {
                Assert.All(selected, p => Assert.Contains(Str(port, "targetPort"), p.Ports));
            }
        }

        foreach (var budget in OfKind("PodDisruptionBudget"))
        {
            Assert.Single(pods, p => Selects(Map(budget, "spec", "selector", "matchLabels"), p.Labels));
        }
    }

    [Fact]
    public void Every_Sair_environment_variable_binds_to_an_option_property_and_its_value_converts()
    {
        var variables = new List<(string Where, string Name, string? Value)>();
        foreach (var deployment in SiloDeployments)
        {
            foreach (var (name, value) in Manifests.Environment(Containers(deployment).Single()))
            {
                variables.Add((Str(deployment, "metadata", "name")!, name, value));
            }
        }

        foreach (var (file, kustomization) in All.Where(d => Str(d.Document, "kind") == "Kustomization"))
        {
            foreach (var literal in List(kustomization, "secretGenerator").SelectMany(g => List(g, "literals")).Cast<string>())
            {
                var split = literal.IndexOf('=');
                variables.Add((file, literal[..split], literal[(split + 1)..]));
            }
        }

        var example = File.ReadAllLines(Path.Combine(Root, "overlays", "prod", "storage.env.example"));
        variables.AddRange(example.Where(l => l.Contains('=')).Select(l => ("storage.env.example", l[..l.IndexOf('=')], (string?)null)));

        var sair = variables.Where(v => v.Name.StartsWith("Sair__", StringComparison.Ordinal)).ToList();
        Assert.Contains(sair, v => v.Name == SiloVariable(nameof(SairSiloOptions.AdvertisedIp)));
        var problems = new List<string>();
        foreach (var (where, name, value) in sair)
        {
            var (property, problem) = OptionBinding.Resolve(name);
            if (property is null)
            {
                problems.Add($"{where}: {problem}");
            }
            else if (value is not null && !OptionBinding.Converts(property, value))
            {
                problems.Add($"{where}: {name}='{value}' does not convert to {property.PropertyType.Name}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void A_misspelt_variable_is_caught_by_the_binding_check()
    {
        // Guards the check above: it must reject what the binder would silently ignore.
        Assert.Null(OptionBinding.Resolve("Sair__Silo__Acclerator").Property);
        Assert.Null(OptionBinding.Resolve("Sair__Sillo__Role").Property);
        Assert.NotNull(OptionBinding.Resolve(SiloVariable(nameof(SairSiloOptions.Role))).Property);
        Assert.False(OptionBinding.Converts(OptionBinding.Resolve(SiloVariable(nameof(SairSiloOptions.SiloPort))).Property!, "eleven"));
    }

    [Fact]
    public void Pods_get_longer_to_stop_than_the_silo_takes_to_shut_down()
    {
        foreach (var deployment in SiloDeployments)
        {
            var environment = Manifests.Environment(Containers(deployment).Single());
            var shutdown = environment.TryGetValue(SiloVariable(nameof(SairSiloOptions.ShutdownTimeout)), out var value) && value is not null
                ? TimeSpan.Parse(value, CultureInfo.InvariantCulture)
                : new SairSiloOptions().ShutdownTimeout;
            var grace = TimeSpan.FromSeconds(int.Parse(Str(deployment, "spec", "template", "spec", "terminationGracePeriodSeconds")!));
            Assert.True(grace > shutdown, $"{Str(deployment, "metadata", "name")}: grace {grace} must exceed the silo's shutdown timeout {shutdown}");
        }
    }

    [Fact]
    public void Metrics_reach_Prometheus_by_one_path_only_so_no_series_is_counted_twice()
    {
        var configMaps = OfKind("ConfigMap").ToDictionary(c => Str(c, "metadata", "name")!);
        var prometheus = Load((string)Map(configMaps["sairgrid-prometheus"], "data")["prometheus.yml"]!)[0];
        var jobs = List(prometheus, "scrape_configs").Select(j => Str(j, "job_name")).ToList();
        Assert.Equal(["sairgrid-silos"], jobs);

        // The collector carries traces only: a metrics pipeline there would be a second path for the same series.
        var collector = Load((string)Map(configMaps["otel-collector-config"], "data")["collector.yaml"]!)[0];
        Assert.Equal(["traces", "logs"], Map(collector, "service", "pipelines").Keys);
        Assert.DoesNotContain("prometheus", Map(collector, "exporters").Keys);

        // And the silo sends no metrics over OTLP even where an OTLP endpoint is configured (k8s sets one).
        var hosting = File.ReadAllText(Path.Combine(Sair.Tests.RepoPaths.Root, "src", "Sair.Silo", "SiloHostingExtensions.cs"));
        var metrics = hosting[hosting.IndexOf(".WithMetrics(", StringComparison.Ordinal)..];
        metrics = metrics[..metrics.IndexOf(';', StringComparison.Ordinal)];
        Assert.DoesNotContain("Otlp", metrics, StringComparison.Ordinal);
    }
}
