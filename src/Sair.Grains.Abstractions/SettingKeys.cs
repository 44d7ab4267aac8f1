namespace Sair.Grains;

/// <summary>
/// The configuration sections of a SairGrid silo, and the keys a client sets when it starts a silo of its own (the
/// <c>sair</c> command's local silo): one place for their names. The silo's options classes take their sections from
/// here, and the silo's tests check that every key below binds to one of their properties.
/// </summary>
public static class SettingKeys
{
    public const string Silo = "Sair:Silo";
    public const string Storage = "Sair:Storage";
    public const string Health = "Sair:Health";
    public const string Engine = "Sair:Engine";
    public const string Limits = "Sair:Limits";
    public const string Albums = "Sair:Albums";
    public const string Placement = "Sair:Placement";
    public const string Telemetry = "Sair:Telemetry";
    public const string Dashboard = "Sair:Dashboard";
    public const string Tenancy = "Sair:Tenancy";
    public const string Tls = "Sair:Tls";

    /// <summary>coordinator or engine (<see cref="Placement.SiloMetadataKeys"/>).</summary>
    public const string SiloRole = Silo + ":Role";
    public const string SiloImageRoot = Silo + ":ImageRoot";
    public const string SiloPort = Silo + ":SiloPort";
    public const string GatewayPort = Silo + ":GatewayPort";
    public const string StorageDataRoot = Storage + ":DataRoot";
    public const string HealthPort = Health + ":Port";

    /// <summary>A StyleGAN2 checkpoint, or <see cref="EmbeddedGenerator"/>.</summary>
    /// <summary>
    /// The base64 key tenant tokens are signed with (<see cref="Sair.Grains.Tenancy.TenantToken"/>). Set on every silo of a shared
    /// grid (from a secret); unset, the grid is one trust domain and clients need no token.
    /// </summary>
    public const string TenancySigningKey = Tenancy + ":SigningKey";

    /// <summary>The silo's certificate (PEM, with <see cref="TlsKeyPath"/>, or PKCS#12); set, silos and gateways speak TLS only.</summary>
    public const string TlsCertificatePath = Tls + ":CertificatePath";

    /// <summary>The PEM private key of <see cref="TlsCertificatePath"/> (unset for a PKCS#12 file).</summary>
    public const string TlsKeyPath = Tls + ":KeyPath";

    /// <summary>The grid's CA (PEM) that peers' certificates must chain to (<see cref="Sair.Grains.Security.GridTls"/>).</summary>
    public const string TlsCaPath = Tls + ":CaPath";

    public const string EngineGeneratorPath = Engine + ":GeneratorPath";

    /// <summary>The value of <see cref="EngineGeneratorPath"/> that picks the silo's embedded default prior.</summary>
    public const string EmbeddedGenerator = "embedded";

    /// <summary>An <see cref="Sair.Grains.Ports.IdentityNetSpec"/>.</summary>
    public const string EngineIdentityNet = Engine + ":IdentityNet";

    /// <summary>Jobs an engine silo runs at once (read by the engine worker and the engine).</summary>
    public const string EngineMaxConcurrentJobs = Engine + ":MaxConcurrentJobs";

    /// <summary>Of the running jobs, most optimised in one batched pass.</summary>
    public const string EngineBatchSize = Engine + ":BatchSize";

    /// <summary>The folder where an engine silo keeps its references' inversions and tuned generators across restarts.</summary>
    public const string EngineReferenceStore = Engine + ":ReferenceStore";

    /// <summary>The environment variable .NET configuration reads <paramref name="key"/> from ("Sair:Silo:Role" → "Sair__Silo__Role").</summary>
    public static string EnvironmentVariable(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Replace(":", "__", StringComparison.Ordinal);
    }
}
