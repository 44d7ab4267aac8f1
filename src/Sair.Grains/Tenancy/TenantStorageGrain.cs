using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Ports;

namespace Sair.Grains.Tenancy;

/// <summary>
/// The bytes one tenant has uploaded into the image store (key = tenant), capped by
/// <see cref="GridLimits.MaxTenantStorageBytes"/>: the grid's upload doors reserve each file's size here before they
/// write it, and an upload that would take the tenant over its quota is refused with nothing written. Files removed
/// since (a pool's person removed, an album's folder cleared) are found when the tenant reaches its quota: each recorded
/// file still in the store counts, the others are forgotten. Results the engines write count against no quota: they are
/// bounded by the uploads (faces per album, pixels per photo).
/// </summary>
[Alias("sair.ITenantStorageGrain")]
public interface ITenantStorageGrain : IGrainWithStringKey
{
    /// <summary>Counts <paramref name="bytes"/> at <paramref name="path"/> (replacing what was counted there), or refuses them over the quota.</summary>
    [Alias("Reserve")]
    Task ReserveAsync(string path, long bytes);

    /// <summary>Bytes counted against the tenant now.</summary>
    [Alias("Used")]
    Task<long> GetUsedAsync();
}

[GenerateSerializer, Alias("sair.TenantStorageState")]
public sealed class TenantStorageState
{
    [Id(0)] public Dictionary<string, long> Files { get; set; } = new(StringComparer.Ordinal);
}

public sealed class TenantStorageGrain(
    [PersistentState("storage", GridStorage.Tenants)] IPersistentState<TenantStorageState> storage,
    IImageStore images,
    IOptions<GridLimits> limits,
    IOptions<TenancyOptions> tenancy,
    TimeProvider time,
    ILogger<TenantStorageGrain> logger) : Grain, ITenantStorageGrain
{
    private DateTimeOffset _recounted = DateTimeOffset.MinValue;

    private Dictionary<string, long> Files => storage.State.Files;

    public async Task ReserveAsync(string path, long bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var quota = limits.Value.MaxTenantStorageBytes;
        if (After(path, bytes) > quota && time.GetUtcNow() - _recounted >= tenancy.Value.StorageRecountInterval)
        {
            await ForgetRemovedAsync();
        }

        if (After(path, bytes) is var total && total > quota)
        {
            throw new ArgumentException(
                $"Tenant '{this.GetPrimaryKeyString()}' would store {Mib(total)} MiB, over its quota of {Mib(quota)} MiB " +
                $"({GridLimits.Section}:{nameof(GridLimits.MaxTenantStorageBytes)}): nothing was written. Remove albums or pool " +
                "photos it no longer needs, or ask the grid's operator for a larger quota.");
        }

        Files[path] = bytes;
        await storage.WriteStateAsync();
    }

    public Task<long> GetUsedAsync() => Task.FromResult(Files.Values.Sum());

    private long After(string path, long bytes) => Files.Values.Sum() - Files.GetValueOrDefault(path) + bytes;

    private async Task ForgetRemovedAsync()
    {
        _recounted = time.GetUtcNow();
        var gone = new List<string>();
        foreach (var path in Files.Keys.ToList())
        {
            if (!await images.ExistsAsync(path, CancellationToken.None))
            {
                gone.Add(path);
            }
        }

        if (gone.Count > 0)
        {
            logger.LogInformation("Tenant {Tenant}: {Count} uploaded file(s) are no longer stored; their bytes no longer count", this.GetPrimaryKeyString(), gone.Count);
            foreach (var path in gone)
            {
                Files.Remove(path);
            }

            await storage.WriteStateAsync();
        }
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The upload doors' side of <see cref="ITenantStorageGrain"/>.</summary>
public static class TenantStorage
{
    /// <summary>On a grid with tenants, reserves <paramref name="bytes"/> at <paramref name="path"/> for the calling tenant.</summary>
    public static Task ReserveAsync(IGrainFactory grains, string path, long bytes) =>
        TenantContext.Current is { } tenant
            ? grains.GetGrain<ITenantStorageGrain>(tenant).ReserveAsync(path, bytes)
            : Task.CompletedTask;
}
