using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Sair.Silo.Hosting;

namespace Sair.Silo.Tests.Kubernetes;

/// <summary>
/// When a silo uses Orleans' Kubernetes hosting, and that the silo's own settings (ids, address, ports) stay the ones
/// in force with it. The environment is given as configuration, as the host reads it; no process environment changes.
/// </summary>
public sealed class KubernetesHostingTests
{
    private static readonly Dictionary<string, string?> Pod = new()
    {
        [KubernetesHosting.ServiceHostVariable] = "10.96.0.1",
        ["POD_NAME"] = "sairgrid-silo-7d9f-abcde",
        ["POD_NAMESPACE"] = "sairgrid",
        ["POD_IP"] = "10.244.1.17",
    };

    private static IConfiguration Configuration(IDictionary<string, string?>? environment = null, params (string Key, string? Value)[] more)
    {
        var values = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>());
        foreach (var (key, value) in more)
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    private static SairSiloOptions Silo(bool? kubernetes = null, string? advertisedIp = null) =>
        new() { KubernetesHosting = kubernetes, AdvertisedIp = advertisedIp, ClusterId = "sairgrid-k8s", ServiceId = "sairgrid" };

    [Fact]
    public void Outside_a_pod_it_is_off_and_forcing_it_on_fails_at_start_up()
    {
        Assert.False(KubernetesHosting.IsEnabled(Silo(), SairStorageOptions.AzureProvider, Configuration()));
        Assert.False(KubernetesHosting.IsEnabled(Silo(), SairStorageOptions.LocalProvider, Configuration()));
        var forced = Assert.Throws<InvalidOperationException>(() => KubernetesHosting.IsEnabled(Silo(true), SairStorageOptions.AzureProvider, Configuration()));
        Assert.Contains(KubernetesHosting.ServiceHostVariable, forced.Message);
    }

    [Fact]
    public void In_a_pod_that_declares_itself_it_is_on_for_the_azure_provider_unless_switched_off()
    {
        Assert.True(KubernetesHosting.IsEnabled(Silo(), SairStorageOptions.AzureProvider, Configuration(Pod)));
        Assert.True(KubernetesHosting.IsEnabled(Silo(true), SairStorageOptions.AzureProvider, Configuration(Pod)));
        Assert.False(KubernetesHosting.IsEnabled(Silo(false), SairStorageOptions.AzureProvider, Configuration(Pod)));
        // The embedded grid's localhost clustering has no shared membership for it.
        Assert.False(KubernetesHosting.IsEnabled(Silo(), SairStorageOptions.LocalProvider, Configuration(Pod)));
        Assert.Throws<InvalidOperationException>(() => KubernetesHosting.IsEnabled(Silo(true), SairStorageOptions.LocalProvider, Configuration(Pod)));
        // A pod whose manifest gives no POD_NAME (the silo name Orleans would use) is not switched on by itself.
        Assert.False(KubernetesHosting.IsEnabled(Silo(), SairStorageOptions.AzureProvider, Configuration(Pod, ("POD_NAME", null))));
    }

    [Fact]
    public void ORLEANS_ids_that_disagree_with_the_silo_settings_are_refused()
    {
        KubernetesHosting.CheckIds(Silo(), Configuration(Pod, ("ORLEANS_CLUSTER_ID", "sairgrid-k8s"), ("ORLEANS_SERVICE_ID", "sairgrid")));
        var cluster = Assert.Throws<InvalidOperationException>(() => KubernetesHosting.CheckIds(Silo(), Configuration(Pod, ("ORLEANS_CLUSTER_ID", "other"))));
        Assert.Contains("Sair:Silo:ClusterId", cluster.Message);
        Assert.Throws<InvalidOperationException>(() => KubernetesHosting.CheckIds(Silo(), Configuration(Pod, ("ORLEANS_SERVICE_ID", "other"))));
    }

    [Fact]
    public void The_advertised_address_is_the_configured_one_else_the_pod_IP()
    {
        Assert.Equal(IPAddress.Parse("10.244.9.9"), KubernetesHosting.AdvertisedAddress(Silo(advertisedIp: "10.244.9.9"), kubernetes: true, Configuration(Pod)));
        Assert.Equal(IPAddress.Parse("10.244.1.17"), KubernetesHosting.AdvertisedAddress(Silo(), kubernetes: true, Configuration(Pod)));
        Assert.Null(KubernetesHosting.AdvertisedAddress(Silo(), kubernetes: false, Configuration(Pod)));
        Assert.Throws<InvalidOperationException>(() => KubernetesHosting.AdvertisedAddress(Silo(), kubernetes: true, Configuration(Pod, ("POD_IP", "not-an-ip"))));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_silo_host_registers_the_hosting_only_in_a_pod_and_keeps_its_own_ids_address_and_ports(bool inPod)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var settings = new Dictionary<string, string?>(inPod ? Pod : [])
        {
            ["Sair:Storage:Provider"] = SairStorageOptions.AzureProvider,
            ["Sair:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Sair:Silo:ClusterId"] = "sairgrid-k8s",
            ["Sair:Silo:ServiceId"] = "sairgrid",
            ["Sair:Silo:SiloPort"] = "11111",
            ["Sair:Silo:GatewayPort"] = "30000",
        };
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddSairSilo();

        var kubernetes = builder.Services.Where(d => (d.ImplementationType ?? d.ServiceType).Namespace == "Orleans.Hosting.Kubernetes").ToList();
        Assert.Equal(inPod, kubernetes.Count > 0);
        using var services = builder.Services.BuildServiceProvider();
        var cluster = services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        Assert.Equal(("sairgrid-k8s", "sairgrid"), (cluster.ClusterId, cluster.ServiceId));
        var endpoints = services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        Assert.Equal((11111, 30000), (endpoints.SiloPort, endpoints.GatewayPort));
        Assert.Equal(new IPEndPoint(IPAddress.Any, 11111), endpoints.SiloListeningEndpoint);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 30000), endpoints.GatewayListeningEndpoint);
        if (inPod)
        {
            Assert.Equal(IPAddress.Parse(Pod["POD_IP"]!), endpoints.AdvertisedIPAddress);
        }
    }
}
