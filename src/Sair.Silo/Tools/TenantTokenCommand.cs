using System.Globalization;
using Sair.Grains;
using Sair.Grains.Tenancy;

namespace Sair.Silo.Tools;

/// <summary>
/// <c>Sair.Silo tenant-token</c>: the operator's way to issue a tenant token, signed with the grid's key (the same
/// <c>Sair__Tenancy__SigningKey</c> the silos read, or a file holding it). Prints the token alone on stdout.
/// </summary>
internal static class TenantTokenCommand
{
    public static int Run(string[] args)
    {
        string? tenant = null;
        string? keyFile = null;
        var days = 90.0;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--tenant": tenant = Next(); break;
                case "--key-file": keyFile = Next(); break;
                case "--days": days = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-h" or "--help":
                    Console.WriteLine($"""
                        Sair.Silo tenant-token: issue a token that admits one tenant to a grid with tenants.

                          --tenant <name>      the tenant (1-40 lower-case letters, digits, hyphens)
                          --days <n>           how long the token is valid (default 90)
                          --key-file <file>    a file holding the grid's base64 signing key
                                               (default: the {SettingKeys.EnvironmentVariable(SettingKeys.TenancySigningKey)} variable)

                        The token alone goes to stdout; give it to the tenant, who sets {TenantContext.TokenVariable}.
                        """);
                    return 0;
                default:
                    throw new ArgumentException($"unknown option '{args[i]}' (see --help)");
            }
        }

        if (tenant is null)
        {
            throw new ArgumentException("--tenant is required (see --help)");
        }

        if (!(days > 0))
        {
            throw new ArgumentException("--days must be more than 0");
        }

        var variable = SettingKeys.EnvironmentVariable(SettingKeys.TenancySigningKey);
        var encoded = keyFile is not null ? File.ReadAllText(keyFile)
            : Environment.GetEnvironmentVariable(variable)
              ?? throw new ArgumentException($"no signing key: set {variable} (as the silos have it) or give --key-file");
        var expires = DateTimeOffset.UtcNow.AddDays(days);
        Console.WriteLine(TenantToken.Create(tenant, TenantToken.ParseKey(encoded), expires));
        Console.Error.WriteLine($"token for tenant '{tenant}', valid until {expires:u}");
        return 0;
    }
}
