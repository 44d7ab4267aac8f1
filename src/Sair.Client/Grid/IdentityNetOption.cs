using Sair.Grains.Ports;

namespace Sair.Client.Grid;

/// <summary>The client's side of <c>--identity-net</c>: the contract's <see cref="IdentityNetSpec"/>, checked against this machine's files.</summary>
public static class IdentityNetOption
{
    /// <summary>Null when the value is usable, else what is wrong with it.</summary>
    public static string? Problem(string spec) => IdentityNetSpec.TryParse(spec) switch
    {
        null => $"--identity-net '{spec}' is unknown: use {IdentityNetSpec.Usage}.",
        { WeightsPath: { } weights } when !File.Exists(weights) => $"--identity-net weights '{weights}' do not exist.",
        _ => null,
    };

    /// <summary>The value with its weights path made absolute, for a silo started in another folder.</summary>
    public static string Resolve(string spec) => IdentityNetSpec.TryParse(spec) is { } parsed
        ? (parsed with { WeightsPath = parsed.WeightsPath is { } weights ? Path.GetFullPath(weights) : null }).ToString()
        : spec;
}
