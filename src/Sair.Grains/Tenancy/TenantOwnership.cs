namespace Sair.Grains.Tenancy;

/// <summary>
/// A grain whose object belongs to a tenant (a pool, an album, a job, a training run): <see cref="TenantGate"/> refuses
/// a client of any other tenant before the call reaches it. Null: no owner (a grid without tenants, or an object made
/// before tenants were switched on, which every tenant may use).
/// </summary>
public interface ITenantOwned
{
    string? Tenant { get; }
}

/// <summary>
/// The silos' question to an album about its folder <c>albums/&lt;id&gt;/</c> in the image store: may a
/// tenant use it? An album nobody owns yet becomes the tenant's (a client uploads its photos before
/// it submits the album).
/// </summary>
[Alias("sair.IAlbumOwnership")]
public interface IAlbumOwnership : IGrainWithStringKey
{
    [Alias("Claim")]
    Task<bool> ClaimAsync(string tenant);
}

/// <summary>The same question to a pool about <c>pools/&lt;name&gt;/</c> and about an album that restores towards it.</summary>
[Alias("sair.IPoolOwnership")]
public interface IPoolOwnership : IGrainWithStringKey
{
    [Alias("Claim")]
    Task<bool> ClaimAsync(string tenant);
}

/// <summary>The persisted state of a grain a tenant can claim: its owner, null until the first claim.</summary>
internal interface IOwnedState
{
    string? Tenant { get; set; }
}

/// <summary>How an owned grain answers a claim: its owner, set to the claiming tenant when it had none.</summary>
internal static class Ownership
{
    /// <summary>
    /// True when <paramref name="tenant"/> owns the object or has just become its owner (then written to
    /// <paramref name="state"/> before the answer).
    /// </summary>
    public static async Task<bool> ClaimAsync<TState>(IPersistentState<TState> state, string tenant) where TState : IOwnedState
    {
        if (state.State.Tenant is null)
        {
            state.State.Tenant = tenant;
            await state.WriteStateAsync();
        }

        return state.State.Tenant == tenant;
    }

    /// <summary>Whether the image-store path <paramref name="path"/> may be used by <paramref name="tenant"/>: asks the album or pool it lies in.</summary>
    public static async Task<bool> MayUseAsync(IGrainFactory grains, string tenant, string path)
    {
        var parts = path.Split('/');
        return parts.Length >= 3 && parts[0] switch
        {
            "albums" => await grains.GetGrain<IAlbumOwnership>(parts[1]).ClaimAsync(tenant),
            "pools" => await grains.GetGrain<IPoolOwnership>(parts[1]).ClaimAsync(tenant),
            _ => false,
        };
    }

    /// <summary>Throws <see cref="GridAccessDeniedException"/> unless the current call's tenant (if any) may use <paramref name="path"/>.</summary>
    public static async Task CheckPathAsync(IGrainFactory grains, string path)
    {
        if (TenantContext.Current is { } tenant && !await MayUseAsync(grains, tenant, path))
        {
            throw new GridAccessDeniedException($"'{path}' lies in another tenant's album or pool.");
        }
    }
}
