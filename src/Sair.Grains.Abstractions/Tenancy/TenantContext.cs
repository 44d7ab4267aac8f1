namespace Sair.Grains.Tenancy;

/// <summary>
/// Where a call says who makes it: a client puts its token under <see cref="TokenKey"/> in Orleans' request context;
/// a silo that checked it puts the tenant under <see cref="TenantKey"/> (a client's own value there is dropped), and
/// the tenant travels on with every call the grain makes for it.
/// </summary>
public static class TenantContext
{
    /// <summary>The request-context key of a client's tenant token.</summary>
    public const string TokenKey = "sair.token";

    /// <summary>The request-context key of the tenant a silo verified.</summary>
    public const string TenantKey = "sair.tenant";

    /// <summary>The environment variable the <c>sair</c> client reads its token from.</summary>
    public const string TokenVariable = "SAIR_TOKEN";

    /// <summary>The verified tenant of the current call; null on a grid without tenants and in the silos' own work.</summary>
    public static string? Current => RequestContext.Get(TenantKey) as string;

    /// <summary>Makes the calls that follow in this flow act for <paramref name="tenant"/> (a grain acting for its owner).</summary>
    public static void ActFor(string? tenant)
    {
        if (tenant is null)
        {
            RequestContext.Remove(TenantKey);
        }
        else
        {
            RequestContext.Set(TenantKey, tenant);
        }
    }
}
