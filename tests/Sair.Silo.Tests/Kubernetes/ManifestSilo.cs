using System.Globalization;
using Sair.Silo.Hosting;
using static Sair.Silo.Tests.Kubernetes.Manifests;
using static Sair.Testing.SiloProcess;

namespace Sair.Silo.Tests.Kubernetes;

/// <summary>
/// The environment a k8s/base Deployment gives its silo container (ConfigMaps, then its own env), made runnable on a
/// test machine with only what a pod gets from elsewhere or cannot share with other processes here.
/// </summary>
internal static class ManifestSilo
{
    /// <summary>
    /// What the cluster supplies at run time, filled in: the pod IP (downward API; POD_NAME and POD_NAMESPACE are only
    /// read by Kubernetes hosting, off here since there is no API server) and the storage secret. Fixed pod ports would
    /// collide with other processes on a shared test machine, so they are free ones; <paramref name="clusterId"/> keeps
    /// the silo out of clusters other tests made in the same Azurite; the CPU-kernel decision cache is this machine's.
    /// </summary>
    public static Dictionary<string, string> Environment(string deployment, string connectionString, string clusterId)
    {
        var container = Containers(Named("Deployment", deployment)).Single();
        var variables = Manifests.Environment(container).Where(v => v.Value is not null).ToDictionary(v => v.Key, v => v.Value!);
        variables[Key(SairSiloOptions.Section, nameof(SairSiloOptions.AdvertisedIp))] = "127.0.0.1";
        variables[Key(SairSiloOptions.Section, nameof(SairSiloOptions.KubernetesHosting))] = "false";
        variables[Key(SairStorageOptions.Section, nameof(SairStorageOptions.ConnectionString))] = connectionString;
        variables[Key(SairSiloOptions.Section, nameof(SairSiloOptions.ClusterId))] = clusterId;
        foreach (var (section, property) in new[]
        {
            (SairSiloOptions.Section, nameof(SairSiloOptions.SiloPort)),
            (SairSiloOptions.Section, nameof(SairSiloOptions.GatewayPort)),
            (SairHealthOptions.Section, nameof(SairHealthOptions.Port)),
        })
        {
            variables[Key(section, property)] = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        }

        variables.Remove("SAIR_KERNEL_CACHE");
        return variables;
    }
}
