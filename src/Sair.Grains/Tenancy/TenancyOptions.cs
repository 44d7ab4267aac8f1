namespace Sair.Grains.Tenancy;

/// <summary>The "Sair:Tenancy" section: whether the grid has tenants, and the key their tokens are signed with.</summary>
public sealed class TenancyOptions
{
    public const string Section = SettingKeys.Tenancy;

    /// <summary>
    /// The base64 signing key (<see cref="SettingKeys.TenancySigningKey"/>, at least <see cref="TenantToken.MinKeyBytes"/>
    /// bytes); null or empty: no tenants, every client is trusted (one machine, one team).
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>
    /// Least time between two walks of a tenant's recorded uploads looking for files removed since
    /// (<see cref="TenantStorageGrain"/>), however often uploads meet the quota.
    /// </summary>
    public TimeSpan StorageRecountInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The key as bytes, or null without tenants; throws <see cref="ArgumentException"/> for a bad key.</summary>
    public byte[]? Key() => string.IsNullOrWhiteSpace(SigningKey) ? null : TenantToken.ParseKey(SigningKey);
}
