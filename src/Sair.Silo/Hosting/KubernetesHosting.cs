using System.Net;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting.Kubernetes;

namespace Sair.Silo.Hosting;

/// <summary>
/// When a silo uses Orleans' Kubernetes hosting, and how its settings agree with the silo's own
/// (<see cref="SairSiloOptions"/> stays the one source of the cluster id, service id, ports and advertised address).
/// Reads the process environment through <see cref="IConfiguration"/> (the host adds every environment variable).
/// </summary>
public static class KubernetesHosting
{
    /// <summary>Set by the kubelet in every container of a pod: the in-cluster address of the API server.</summary>
    public const string ServiceHostVariable = "KUBERNETES_SERVICE_HOST";

    /// <summary>
    /// Whether this silo calls <c>UseKubernetesHosting()</c>; throws when <see cref="SairSiloOptions.KubernetesHosting"/>
    /// is true where it cannot work (not in a pod, or not the azure provider, whose shared membership table it needs).
    /// </summary>
    public static bool IsEnabled(SairSiloOptions options, string provider, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        var azure = string.Equals(provider, SairStorageOptions.AzureProvider, StringComparison.OrdinalIgnoreCase);
        var inPod = IsSet(configuration, ServiceHostVariable);
        switch (options.KubernetesHosting)
        {
            case false:
                return false;
            case true when !azure:
                throw new InvalidOperationException(
                    $"Sair:Silo:KubernetesHosting is true but Sair:Storage:Provider is '{provider}': Kubernetes hosting needs the " +
                    $"'{SairStorageOptions.AzureProvider}' provider's shared membership table; set Sair__Silo__KubernetesHosting=false.");
            case true when !inPod:
                throw new InvalidOperationException(
                    $"Sair:Silo:KubernetesHosting is true but this process is not in a Kubernetes pod ({ServiceHostVariable} is not set): " +
                    "set Sair__Silo__KubernetesHosting=false (or leave it unset) outside a cluster.");
            case true:
                return true;
            default:
                return azure && inPod
                    && IsSet(configuration, KubernetesHostingOptions.PodNameEnvironmentVariable)
                    && IsSet(configuration, KubernetesHostingOptions.PodNamespaceEnvironmentVariable);
        }
    }

    /// <summary>
    /// Orleans' Kubernetes hosting overwrites the cluster and service ids with ORLEANS_CLUSTER_ID / ORLEANS_SERVICE_ID
    /// when they are set; a silo must not run with ids other than the ones it was configured with, nor label its pod
    /// with others (the hosting lists its cluster's pods by the labels orleans/clusterId and orleans/serviceId).
    /// </summary>
    public static void CheckIds(SairSiloOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var (variable, setting, value) in new[]
        {
            (KubernetesHostingOptions.ClusterIdEnvironmentVariable, nameof(SairSiloOptions.ClusterId), options.ClusterId),
            (KubernetesHostingOptions.ServiceIdEnvironmentVariable, nameof(SairSiloOptions.ServiceId), options.ServiceId),
        })
        {
            var other = configuration[variable];
            if (!string.IsNullOrWhiteSpace(other) && !string.Equals(other, value, StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"{variable} is '{other}' but Sair:Silo:{setting} is '{value}': the silo's ids come from Sair__Silo__{setting}; " +
                    $"remove {variable} or give it the same value.");
            }
        }
    }

    /// <summary>
    /// The address this silo advertises: <see cref="SairSiloOptions.AdvertisedIp"/>, else (Kubernetes hosting) the pod
    /// IP in POD_IP, else null (Orleans picks one).
    /// </summary>
    public static IPAddress? AdvertisedAddress(SairSiloOptions options, bool kubernetes, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        var (setting, text) = !string.IsNullOrWhiteSpace(options.AdvertisedIp) ? ("Sair:Silo:AdvertisedIp", options.AdvertisedIp)
            : kubernetes && IsSet(configuration, KubernetesHostingOptions.PodIPEnvironmentVariable) ? (KubernetesHostingOptions.PodIPEnvironmentVariable, configuration[KubernetesHostingOptions.PodIPEnvironmentVariable]!)
            : (null, null);
        if (text is null)
        {
            return null;
        }

        return IPAddress.TryParse(text, out var ip) ? ip : throw new InvalidOperationException($"{setting} '{text}' is not an IP address.");
    }

    private static bool IsSet(IConfiguration configuration, string variable) => !string.IsNullOrWhiteSpace(configuration[variable]);
}
