using Sair.Grains.Placement;
using Sair.Silo.Hosting;

namespace Sair.Silo.Tests.Support;

/// <summary>
/// Environment variables for a silo process, named from the options types (Section + property), so a renamed option
/// breaks these tests instead of silently configuring nothing.
/// </summary>
internal sealed class SiloEnvironment
{
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal);

    public int SiloPort { get; } = FreePort.Next();

    public int GatewayPort { get; } = FreePort.Next();

    public int HealthPort { get; } = FreePort.Next();

    public string ServiceId { get; }

    public string ClusterId { get; }

    private SiloEnvironment(string serviceId, string clusterId)
    {
        ServiceId = serviceId;
        ClusterId = clusterId;
        Silo(nameof(SairSiloOptions.Role), SiloMetadataKeys.CoordinatorRole);
        Silo(nameof(SairSiloOptions.ServiceId), serviceId);
        Silo(nameof(SairSiloOptions.ClusterId), clusterId);
        Silo(nameof(SairSiloOptions.SiloPort), SiloPort.ToString());
        Silo(nameof(SairSiloOptions.GatewayPort), GatewayPort.ToString());
        Set(SairHealthOptions.Section, nameof(SairHealthOptions.Port), HealthPort.ToString());
        // Quiet silos: the test keeps their output for failure messages only.
        _variables["Logging__LogLevel__Default"] = "Warning";
    }

    public IReadOnlyDictionary<string, string> Variables => _variables;

    /// <summary>The embedded grid: state, reminders and images under <paramref name="dataRoot"/>.</summary>
    public static SiloEnvironment Local(string dataRoot, string serviceId, int? primarySiloPort = null)
    {
        var environment = new SiloEnvironment(serviceId, "local");
        environment.Set(SairStorageOptions.Section, nameof(SairStorageOptions.Provider), SairStorageOptions.LocalProvider);
        environment.Set(SairStorageOptions.Section, nameof(SairStorageOptions.DataRoot), dataRoot);
        environment.Silo(nameof(SairSiloOptions.ImageRoot), Path.Combine(dataRoot, "images"));
        if (primarySiloPort is { } port)
        {
            environment.Silo(nameof(SairSiloOptions.PrimarySiloPort), port.ToString());
        }

        return environment;
    }

    /// <summary>A silo of a cluster on Azure Storage (Azurite here), advertising 127.0.0.1 like a pod advertises its IP.</summary>
    public static SiloEnvironment Azure(string connectionString, string serviceId, string clusterId)
    {
        var environment = new SiloEnvironment(serviceId, clusterId);
        environment.Set(SairStorageOptions.Section, nameof(SairStorageOptions.Provider), SairStorageOptions.AzureProvider);
        environment.Set(SairStorageOptions.Section, nameof(SairStorageOptions.ConnectionString), connectionString);
        environment.Silo(nameof(SairSiloOptions.AdvertisedIp), "127.0.0.1");
        return environment;
    }

    public SiloEnvironment Set(string section, string property, string value)
    {
        _variables[SiloProcess.Key(section, property)] = value;
        return this;
    }

    public SiloEnvironment Set(string name, string value)
    {
        _variables[name] = value;
        return this;
    }

    private void Silo(string property, string value) => Set(SairSiloOptions.Section, property, value);
}
