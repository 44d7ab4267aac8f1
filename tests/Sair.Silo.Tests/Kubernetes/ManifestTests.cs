using System.Globalization;
using Orleans.Hosting.Kubernetes;
using Sair.Grains.Placement;
using Sair.Silo.Adapters;
using Sair.Silo.Hosting;
using static Sair.Silo.Tests.Kubernetes.Manifests;

namespace Sair.Silo.Tests.Kubernetes;

/// <summary>
/// The manifests against the code they deploy: paths, ports and option names come from the silo's own constants
/// and options types, so changing one side without the other fails here.
/// </summary>
public sealed class ManifestTests
{
    private static string SiloVariable(string property) => SiloProcess.Key(SairSiloOptions.Section, property);

    private static Dictionary<string, object?> PodSpec(Dictionary<string, object?> deployment) => Map(deployment, "spec", "template", "spec");

    /// <summary>The downward-API field an env entry of <paramref name="container"/> comes from; null when it has a plain value.</summary>
    private static string? FieldRef(Dictionary<string, object?> container, string variable) =>
        List(container, "env").Where(e => Str(e, "name") == variable).Select(e => Str(e, "valueFrom", "fieldRef", "fieldPath")).SingleOrDefault();

    private static int Configured(Dictionary<string, string?> environment, string variable, int fallback) =>
        environment.TryGetValue(variable, out var value) && value is not null ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

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

            foreach (var patch in List(kustomization, "patches").Select(p => Str(p, "path")).OfType<string>())
            {
                Assert.True(File.Exists(Path.Combine(folder, patch)), $"{file}: patch {patch} is missing");
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
            Assert.Equal(Configured(SiloProcess.Key(SairHealthOptions.Section, nameof(SairHealthOptions.Port)), SairHealthOptions.DefaultPort), ports["health"]);
            Assert.Equal(Configured(SiloVariable(nameof(SairSiloOptions.SiloPort)), defaults.SiloPort), ports["silo"]);
            Assert.Equal(Configured(SiloVariable(nameof(SairSiloOptions.GatewayPort)), defaults.GatewayPort), ports["gateway"]);

            var name = Str(deployment, "metadata", "name");
            if (Str(deployment, "spec", "template", "metadata", "labels", "sairgrid/role") == SiloMetadataKeys.CoordinatorRole)
            {
                Assert.Equal(Configured(SiloProcess.Key(SairDashboardOptions.Section, nameof(SairDashboardOptions.Port)), SairDashboardOptions.DefaultPort), ports["dashboard"]);
            }

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

        // The prod overlay's patches (tenant key, TLS files) set variables of their own on the same containers.
        foreach (var (file, patch) in Patches.Where(d => Str(d.Document, "kind") == "Deployment"))
        {
            // A patch merges by names: its Deployment and containers must be base's, or it would add new ones.
            var target = SiloDeployments.Single(d => Str(d, "metadata", "name") == Str(patch, "metadata", "name"));
            Assert.All(Containers(patch), c => Assert.Contains(Containers(target), t => Str(t, "name") == Str(c, "name")));
            foreach (var entry in Containers(patch).SelectMany(c => List(c, "env")))
            {
                variables.Add((file, Str(entry, "name")!, Str(entry, "value")));
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
        Assert.Contains(sair, v => v.Name == Sair.Grains.SettingKeys.EnvironmentVariable(Sair.Grains.SettingKeys.TenancySigningKey));
        Assert.Contains(sair, v => v.Name == Sair.Grains.SettingKeys.EnvironmentVariable(Sair.Grains.SettingKeys.TlsCaPath));
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
        var hosting = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Sair.Silo", "SiloHostingExtensions.cs"));
        var metrics = hosting[hosting.IndexOf(".WithMetrics(", StringComparison.Ordinal)..];
        metrics = metrics[..metrics.IndexOf(';', StringComparison.Ordinal)];
        Assert.DoesNotContain("Otlp", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public void Silo_pods_are_set_up_for_Orleans_Kubernetes_hosting_with_the_configured_ids()
    {
        foreach (var deployment in SiloDeployments)
        {
            var name = Str(deployment, "metadata", "name");
            var container = Containers(deployment).Single();
            var environment = Manifests.Environment(container);
            Assert.True(environment[SiloVariable(nameof(SairSiloOptions.KubernetesHosting))] == "true", $"{name}: Kubernetes hosting is not switched on");

            // The downward API supplies what UseKubernetesHosting reads.
            Assert.Equal("metadata.name", FieldRef(container, KubernetesHostingOptions.PodNameEnvironmentVariable));
            Assert.Equal("metadata.namespace", FieldRef(container, KubernetesHostingOptions.PodNamespaceEnvironmentVariable));
            Assert.Equal("status.podIP", FieldRef(container, KubernetesHostingOptions.PodIPEnvironmentVariable));
            // One address: the silo advertises the same pod IP Orleans' hosting would.
            Assert.Equal("status.podIP", FieldRef(container, SiloVariable(nameof(SairSiloOptions.AdvertisedIp))));

            // The hosting lists this cluster's pods by these labels: they must be the silo's own ids, and no ORLEANS_*
            // variable may set other ids (the silo refuses to start on a mismatch; here none is set at all).
            var labels = Map(deployment, "spec", "template", "metadata", "labels");
            var defaults = new SairSiloOptions();
            Assert.Equal(environment.GetValueOrDefault(SiloVariable(nameof(SairSiloOptions.ClusterId))) ?? defaults.ClusterId, Str(labels, KubernetesHostingOptions.ClusterIdLabel));
            Assert.Equal(environment.GetValueOrDefault(SiloVariable(nameof(SairSiloOptions.ServiceId))) ?? defaults.ServiceId, Str(labels, KubernetesHostingOptions.ServiceIdLabel));
            Assert.Equal("sairgrid-k8s", Str(labels, KubernetesHostingOptions.ClusterIdLabel));
            Assert.DoesNotContain(KubernetesHostingOptions.ClusterIdEnvironmentVariable, environment.Keys);
            Assert.DoesNotContain(KubernetesHostingOptions.ServiceIdEnvironmentVariable, environment.Keys);
        }
    }

    [Fact]
    public void The_silo_service_account_may_read_watch_and_delete_pods_in_its_namespace()
    {
        var accounts = SiloDeployments.Select(d => Str(PodSpec(d), "serviceAccountName")).Distinct().ToList();
        var account = Assert.Single(accounts);
        Assert.Equal("sairgrid-silo", account);
        Assert.Equal(2, SiloDeployments.Count(d => Str(PodSpec(d), "serviceAccountName") == account));
        Assert.NotNull(Named("ServiceAccount", account!));

        var binding = Assert.Single(OfKind("RoleBinding"), b => List(b, "subjects").Any(s => Str(s, "kind") == "ServiceAccount" && Str(s, "name") == account));
        Assert.Equal("Role", Str(binding, "roleRef", "kind"));
        var role = Named("Role", Str(binding, "roleRef", "name")!);
        var podRules = List(role, "rules").Where(r => List(r, "apiGroups").Contains("") && List(r, "resources").Contains("pods")).ToList();
        var verbs = podRules.SelectMany(r => List(r, "verbs")).Cast<string>().ToHashSet();
        // get/patch: its own pod's labels; list/watch: the cluster's pods; delete: pods of dead silos (DeleteDefunctSiloPods).
        Assert.Superset(new HashSet<string> { "get", "list", "watch", "patch", "delete" }, verbs);
        Assert.Empty(OfKind("ClusterRoleBinding"));
    }

    [Fact]
    public void KEDA_scales_the_engine_deployment_on_the_engine_queue_depth()
    {
        var scaled = Assert.Single(OfKind("ScaledObject"));
        Assert.Equal("Deployment", Str(scaled, "spec", "scaleTargetRef", "kind"));
        var target = Named("Deployment", Str(scaled, "spec", "scaleTargetRef", "name")!);
        Assert.Equal("sairgrid-engine", Str(target, "metadata", "name"));
        Assert.True(int.Parse(Str(scaled, "spec", "minReplicaCount")!) >= 1, "engine silos report the queue depth: never scale them to zero");
        Assert.True(int.Parse(Str(scaled, "spec", "maxReplicaCount")!) > int.Parse(Str(scaled, "spec", "minReplicaCount")!));

        var trigger = Assert.Single(List(scaled, "spec", "triggers"));
        Assert.Equal("prometheus", Str(trigger, "type"));
        var query = Str(trigger, "metadata", "query")!;
        Assert.Matches(@"^sum\(sair_engine_queue_depth\b", query);
        // The series carries the scrape job's name: the one job Prometheus is given.
        var prometheus = Load(Str(Named("ConfigMap", "sairgrid-prometheus"), "data", "prometheus.yml")!).Single();
        var job = Str(List(prometheus, "scrape_configs").Single(), "job_name");
        Assert.Contains($"job=\"{job}\"", query);
        Assert.True(double.Parse(Str(trigger, "metadata", "threshold")!, CultureInfo.InvariantCulture) > 0);

        // Listed by the prod overlay (KEDA's CRD), which leaves the engine replica count to KEDA.
        var (file, prod) = All.Single(d => Str(d.Document, "kind") == "Kustomization" && d.File.Contains($"{Path.DirectorySeparatorChar}prod{Path.DirectorySeparatorChar}"));
        var scaledFile = All.Single(d => ReferenceEquals(d.Document, scaled)).File;
        Assert.Contains(Path.GetFileName(scaledFile), List(prod, "resources").Cast<string>());
        Assert.Equal(Path.GetDirectoryName(file), Path.GetDirectoryName(scaledFile));
        Assert.DoesNotContain(List(prod, "replicas"), r => Str(r, "name") == "sairgrid-engine");
    }

    [Fact]
    public void Every_engine_container_mounts_the_shared_training_claim_where_training_writes()
    {
        var claim = Named("PersistentVolumeClaim", "sairgrid-training");
        Assert.Equal(["ReadWriteMany"], List(claim, "spec", "accessModes").Cast<string>());
        Assert.Contains("training-pvc.yaml", List(All.Single(d => Str(d.Document, "kind") == "Kustomization" && d.File.Contains($"base{Path.DirectorySeparatorChar}kustomization")).Document, "resources").Cast<string>());

        var engine = Named("Deployment", "sairgrid-engine");
        var volume = List(PodSpec(engine), "volumes").Single(v => Str(v, "persistentVolumeClaim", "claimName") == "sairgrid-training");
        Assert.Null(Str(volume, "persistentVolumeClaim", "readOnly"));
        var containers = Containers(engine).ToList();
        Assert.NotEmpty(containers);
        foreach (var container in containers)
        {
            var mount = List(container, "volumeMounts").Single(m => Str(m, "name") == Str(volume, "name"));
            Assert.NotEqual("true", Str(mount, "readOnly"));
            // Both training roots (runs: written; data: read) lie on the shared volume.
            foreach (var option in new[] { nameof(SairEngineOptions.TrainingRoot), nameof(SairEngineOptions.TrainingDataRoot) })
            {
                var root = Manifests.Environment(container)[SiloProcess.Key(SairEngineOptions.Section, option)];
                Assert.StartsWith(Str(mount, "mountPath") + "/", root);
            }
        }

        // The same roots refuse a job writing elsewhere, before touching it.
        var environment = Manifests.Environment(containers[0]);
        var paths = new TrainingPaths(
            environment[SiloProcess.Key(SairEngineOptions.Section, nameof(SairEngineOptions.TrainingRoot))],
            environment[SiloProcess.Key(SairEngineOptions.Section, nameof(SairEngineOptions.TrainingDataRoot))]);
        Assert.Throws<InvalidOperationException>(() => paths.Check(new("job", 0, Sair.Grains.Training.TrainingJobSpec.Prior("/training/data/faces", "/tmp/faces64"))));
        Assert.Throws<InvalidOperationException>(() => paths.Check(new("job", 0, Sair.Grains.Training.TrainingJobSpec.Prior("/weights", "/training/runs/faces64"))));

        // The reference store shares the volume (every engine pod reads what another computed) but no training job may
        // write into it or read from it.
        var store = environment[SiloProcess.Key(SairEngineOptions.Section, nameof(SairEngineOptions.ReferenceStore))]!;
        Assert.StartsWith(Str(List(containers[0], "volumeMounts").Single(m => Str(m, "name") == Str(volume, "name")), "mountPath") + "/", store);
        Assert.Throws<InvalidOperationException>(() => paths.Check(new("job", 0, Sair.Grains.Training.TrainingJobSpec.Prior("/training/data/faces", store + "/faces64"))));
        Assert.Throws<InvalidOperationException>(() => paths.Check(new("job", 0, Sair.Grains.Training.TrainingJobSpec.Prior(store, "/training/runs/faces64"))));
    }

    [Fact]
    public void Coordinators_spread_across_nodes_and_zones_by_their_own_labels()
    {
        var coordinator = Named("Deployment", "sairgrid-silo");
        var selector = Map(coordinator, "spec", "selector", "matchLabels");
        var constraints = List(PodSpec(coordinator), "topologySpreadConstraints");
        var byKey = constraints.ToDictionary(c => Str(c, "topologyKey")!);
        Assert.Equal(["kubernetes.io/hostname", "topology.kubernetes.io/zone"], byKey.Keys.Order());
        Assert.Equal("DoNotSchedule", Str(byKey["kubernetes.io/hostname"], "whenUnsatisfiable"));
        // Nodes without zone labels (single-zone and dev clusters) must not make pods unschedulable.
        Assert.Equal("ScheduleAnyway", Str(byKey["topology.kubernetes.io/zone"], "whenUnsatisfiable"));
        foreach (var constraint in constraints)
        {
            Assert.Equal("1", Str(constraint, "maxSkew"));
            Assert.Equal(selector, Map(constraint, "labelSelector", "matchLabels"));
        }
    }

    [Fact]
    public void The_network_policy_admits_from_outside_only_the_gateway_and_health_ports_and_the_silo_port_from_silos()
    {
        var policy = Named("NetworkPolicy", "sairgrid-silo");
        Assert.Equal(["Ingress"], List(policy, "spec", "policyTypes").Cast<string>());
        // Every silo pod (SiloDeployments are those labelled sairgrid/silo=true), and nothing but silos.
        Assert.Equal(new Dictionary<string, object?> { ["sairgrid/silo"] = "true" }, Map(policy, "spec", "podSelector", "matchLabels"));

        var environment = Manifests.Environment(Containers(Named("Deployment", "sairgrid-silo")).Single());
        var defaults = new SairSiloOptions();
        var health = Configured(environment, SiloProcess.Key(SairHealthOptions.Section, nameof(SairHealthOptions.Port)), SairHealthOptions.DefaultPort);
        var gateway = Configured(environment, SiloVariable(nameof(SairSiloOptions.GatewayPort)), defaults.GatewayPort);
        var silo = Configured(environment, SiloVariable(nameof(SairSiloOptions.SiloPort)), defaults.SiloPort);
        var dashboard = Configured(environment, SiloProcess.Key(SairDashboardOptions.Section, nameof(SairDashboardOptions.Port)), SairDashboardOptions.DefaultPort);

        static HashSet<int> Ports(object? rule) => List(rule, "ports").Select(p => int.Parse(Str(p, "port")!, CultureInfo.InvariantCulture)).ToHashSet();
        var rules = List(policy, "spec", "ingress");
        var fromAnywhere = rules.Where(r => At(r, "from") is null).SelectMany(Ports).ToHashSet();
        Assert.Equal(new HashSet<int> { gateway, health }, fromAnywhere);
        Assert.DoesNotContain(dashboard, rules.SelectMany(Ports));

        var siloRule = Assert.Single(rules, r => Ports(r).Contains(silo));
        var peers = List(siloRule, "from").Select(f => Map(f, "podSelector", "matchLabels")).ToList();
        var peer = Assert.Single(peers);
        Assert.Equal(new Dictionary<string, object?> { ["sairgrid/silo"] = "true" }, peer);
        Assert.Equal(new HashSet<int> { silo }, Ports(siloRule));

        // The collector takes OTLP from silo pods only, on the ports its Service exposes.
        var collector = Named("NetworkPolicy", "otel-collector");
        var otlpPorts = List(Named("Service", "otel-collector"), "spec", "ports").Select(p => int.Parse(Str(p, "port")!, CultureInfo.InvariantCulture)).ToHashSet();
        var collectorRule = Assert.Single(List(collector, "spec", "ingress"));
        Assert.Equal(otlpPorts, Ports(collectorRule));
        Assert.Equal("true", Str(Map(Assert.Single(List(collectorRule, "from")), "podSelector", "matchLabels"), "sairgrid/silo"));
    }

    [Fact]
    public void Every_silo_container_has_a_read_only_root_and_writable_mounts_where_it_writes()
    {
        foreach (var deployment in SiloDeployments)
        {
            var name = Str(deployment, "metadata", "name");
            var emptyDirs = List(PodSpec(deployment), "volumes").Where(v => At(v, "emptyDir") is not null || At(v, "persistentVolumeClaim") is not null)
                .Select(v => Str(v, "name")).ToHashSet();
            foreach (var container in Containers(deployment))
            {
                Assert.True(Str(container, "securityContext", "readOnlyRootFilesystem") == "true", $"{name}: root file system is writable");
                var writable = List(container, "volumeMounts")
                    .Where(m => emptyDirs.Contains(Str(m, "name")) && Str(m, "readOnly") != "true")
                    .Select(m => Str(m, "mountPath")!).ToList();
                var environment = Manifests.Environment(container);
                // Where the process writes: temporary files, the CPU-kernel decision cache (and on GPUs CUDA's JIT cache).
                var paths = new List<string> { "/tmp", environment[Sair.Engine.Runtime.CpuKernels.CacheVariable]! };
                // ... and the engines' reference store.
                if (environment.TryGetValue(SiloProcess.Key(SairEngineOptions.Section, nameof(SairEngineOptions.ReferenceStore)), out var store) && store is not null)
                {
                    paths.Add(store);
                }
                if (environment.TryGetValue("CUDA_CACHE_PATH", out var cuda) && cuda is not null)
                {
                    paths.Add(cuda);
                }

                foreach (var path in paths)
                {
                    Assert.True(writable.Any(m => path == m || path.StartsWith(m.TrimEnd('/') + "/", StringComparison.Ordinal)),
                        $"{name}: {path} is on no writable volume ({string.Join(", ", writable)})");
                }
            }
        }
    }
}
