using System.Reflection;
using Sair.Grains;
using Sair.Silo.Adapters;
using Sair.Silo.Hosting;

namespace Sair.Silo.Tests.Hosting;

/// <summary>
/// The contract's <see cref="SettingKeys"/> are the one list of setting names a client uses to start a silo: each must
/// name a property of the silo's options class for its section, or the client would set a key nothing reads.
/// </summary>
public sealed class SettingKeysTests
{
    private static readonly Dictionary<string, Type> OptionsBySection = new()
    {
        [SairSiloOptions.Section] = typeof(SairSiloOptions),
        [SairStorageOptions.Section] = typeof(SairStorageOptions),
        [SairHealthOptions.Section] = typeof(SairHealthOptions),
        [SairEngineOptions.Section] = typeof(SairEngineOptions),
        [SairTlsOptions.Section] = typeof(SairTlsOptions),
        [Sair.Grains.Tenancy.TenancyOptions.Section] = typeof(Sair.Grains.Tenancy.TenancyOptions),
    };

    public static TheoryData<string> Keys()
    {
        var keys = new TheoryData<string>();
        foreach (var field in typeof(SettingKeys).GetFields(BindingFlags.Public | BindingFlags.Static)
                     .Where(f => f.IsLiteral && f.FieldType == typeof(string)))
        {
            var value = (string)field.GetRawConstantValue()!;
            if (value.Count(c => c == ':') == 2)
            {
                keys.Add(value);
            }
        }
        return keys;
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void Every_key_a_client_sets_binds_to_a_silo_option(string key)
    {
        var section = key[..key.LastIndexOf(':')];
        var property = key[(key.LastIndexOf(':') + 1)..];

        Assert.True(OptionsBySection.TryGetValue(section, out var options), $"no silo options class binds section {section}");
        Assert.NotNull(options!.GetProperty(property, BindingFlags.Public | BindingFlags.Instance));
    }

    [Fact]
    public void Keys_become_the_environment_variables_dotnet_configuration_reads()
    {
        Assert.Equal("Sair__Silo__Role", SettingKeys.EnvironmentVariable(SettingKeys.SiloRole));
        Assert.Equal(15, Keys().Count);
    }
}
