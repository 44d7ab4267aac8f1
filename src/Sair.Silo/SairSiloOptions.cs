using Sair.Grains.Placement;
using Sair.Grains;

namespace Sair.Silo;

/// <summary>How this silo joins the grid (section "Sair:Silo"; environment: Sair__Silo__Role=engine, ...).</summary>
public sealed class SairSiloOptions
{
    public const string Section = SettingKeys.Silo;

    /// <summary>"engine" (holds a generator and runs jobs) or "coordinator" (pools, albums, gateway).</summary>
    public string Role { get; set; } = SiloMetadataKeys.CoordinatorRole;

    /// <summary>Advertised compute device: "gpu" or "cpu".</summary>
    public string Accelerator { get; set; } = "cpu";

    /// <summary>Folder of the file-system image store (local storage); every silo of the cluster must see the same one.</summary>
    public string ImageRoot { get; set; } = "sair-data/images";

    public string ClusterId { get; set; } = "sair";

    public string ServiceId { get; set; } = "sairgrid";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>Silo port of the primary silo on this machine (local storage); null when this silo is the primary.</summary>
    public int? PrimarySiloPort { get; set; }

    /// <summary>
    /// The address other silos and clients reach this silo at (azure storage): on Kubernetes the pod IP from the
    /// downward API. Empty: Orleans picks this machine's first non-loopback address.
    /// </summary>
    public string? AdvertisedIp { get; set; }

    /// <summary>
    /// Orleans' Kubernetes hosting (<c>UseKubernetesHosting</c>: silo name = pod name, pods of dead silos noticed,
    /// silos of deleted pods declared dead), with the azure storage provider only. Null (default): on when this
    /// process runs in a pod that declares itself (KUBERNETES_SERVICE_HOST, which the kubelet sets, plus POD_NAME and
    /// POD_NAMESPACE from the downward API); true: on, and fail at start-up outside a pod; false: off.
    /// The cluster and service ids stay this section's (<see cref="ClusterId"/>, <see cref="ServiceId"/>).
    /// </summary>
    public bool? KubernetesHosting { get; set; }

    /// <summary>
    /// How long a stopping silo may take to hand its grains over and stop its jobs; a container orchestrator must
    /// allow more (Kubernetes terminationGracePeriodSeconds) or it kills the silo mid-handover.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(45);
}
