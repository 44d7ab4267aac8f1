using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Sair.Grains.Tenancy;

/// <summary>
/// A tenant's credential on a shared grid: <c>sair1.&lt;tenant&gt;.&lt;expiry, Unix seconds&gt;.&lt;signature&gt;</c>, the
/// signature an HMAC-SHA256 of the first three parts under the grid's signing key (<see cref="SettingKeys.TenancySigningKey"/>).
/// The operator issues tokens (<c>Sair.Silo tenant-token</c>); a client sends its token with every call
/// (<see cref="TenantContext.TokenKey"/>) and the silos check it, so no silo needs a list of users and a token cannot be
/// altered or extended without the key. A token is a bearer secret: it belongs behind TLS (docs/security.md).
/// </summary>
public static partial class TenantToken
{
    /// <summary>The format's version, the token's first part.</summary>
    public const string Version = "sair1";

    /// <summary>The shortest signing key accepted, in bytes (HMAC-SHA256's own block of security).</summary>
    public const int MinKeyBytes = 32;

    /// <summary>A new token for <paramref name="tenant"/>, valid until <paramref name="expires"/>.</summary>
    public static string Create(string tenant, byte[] key, DateTimeOffset expires)
    {
        CheckName(tenant);
        CheckKey(key);
        var body = $"{Version}.{tenant}.{expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
        return $"{body}.{Signature(body, key)}";
    }

    /// <summary>
    /// Checks <paramref name="token"/> against <paramref name="key"/> at <paramref name="now"/>; on success gives its
    /// tenant, otherwise a reason fit to show the client (that says nothing about the key).
    /// </summary>
    public static bool TryVerify(string? token, byte[] key, DateTimeOffset now,
        [NotNullWhen(true)] out string? tenant, [NotNullWhen(false)] out string? problem)
    {
        CheckKey(key);
        tenant = null;
        if (string.IsNullOrWhiteSpace(token))
        {
            problem = "the call carries no tenant token";
            return false;
        }

        var parts = token.Trim().Split('.');
        if (parts.Length != 4 || parts[0] != Version || !NamePattern().IsMatch(parts[1])
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expiry))
        {
            problem = "the tenant token is malformed";
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Signature($"{parts[0]}.{parts[1]}.{parts[2]}", key));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parts[3])))
        {
            problem = "the tenant token's signature is not this grid's";
            return false;
        }

        if (now.ToUnixTimeSeconds() >= expiry)
        {
            problem = $"the tenant token of '{parts[1]}' expired at {DateTimeOffset.FromUnixTimeSeconds(expiry):u}";
            return false;
        }

        tenant = parts[1];
        problem = null;
        return true;
    }

    /// <summary>The tenant a token names, unverified (for showing who a client is); null when it is not a token.</summary>
    public static string? ClaimedTenant(string? token) =>
        token?.Trim().Split('.') is [Version, var name, _, _] && NamePattern().IsMatch(name) ? name : null;

    /// <summary>Tenant names: 1–40 lower-case letters, digits and inner hyphens.</summary>
    public static void CheckName(string tenant)
    {
        if (tenant is null || !NamePattern().IsMatch(tenant))
        {
            throw new ArgumentException(
                $"'{tenant}' is not a tenant name: use 1 to 40 lower-case letters, digits and hyphens (not first or last).", nameof(tenant));
        }
    }

    /// <summary>A signing key from its base64 setting, refused when it is not base64 or shorter than <see cref="MinKeyBytes"/>.</summary>
    public static byte[] ParseKey(string base64)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{SettingKeys.TenancySigningKey} is not base64: make one with 'openssl rand -base64 32'.");
        }

        CheckKey(key);
        return key;
    }

    private static void CheckKey(byte[] key)
    {
        if (key is null || key.Length < MinKeyBytes)
        {
            throw new ArgumentException(
                $"The tenant signing key has {key?.Length ?? 0} bytes; it needs at least {MinKeyBytes} ('openssl rand -base64 32').");
        }
    }

    private static string Signature(string body, byte[] key) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(body)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")]
    private static partial Regex NamePattern();
}
