namespace Sair.Client.Grid;

/// <summary>
/// The <c>--identity-net</c> value, as the silo's Sair:Engine:IdentityNet reads it: <c>faceapi</c> or <c>faceres</c>
/// (the npm networks), or <c>iresnet50:&lt;weights&gt;</c> / <c>irse50:&lt;weights&gt;</c> for ArcFace backbones.
/// </summary>
public static class IdentityNetSpec
{
    private static readonly string[] Builtin = ["faceapi", "faceres"];
    private static readonly string[] Backbones = ["iresnet50", "irse50"];

    /// <summary>Null when the value is usable, else what is wrong with it.</summary>
    public static string? Problem(string spec)
    {
        if (Builtin.Contains(spec, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !Backbones.Contains(spec[..colon], StringComparer.OrdinalIgnoreCase))
        {
            return $"--identity-net '{spec}' is unknown: use faceapi, faceres, iresnet50:<weights.pth> or irse50:<weights.pth>.";
        }
        return File.Exists(spec[(colon + 1)..]) ? null : $"--identity-net weights '{spec[(colon + 1)..]}' do not exist.";
    }

    /// <summary>The value with its weights path made absolute, for a silo started in another folder.</summary>
    public static string Resolve(string spec)
    {
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? spec.ToLowerInvariant() : $"{spec[..colon].ToLowerInvariant()}:{Path.GetFullPath(spec[(colon + 1)..])}";
    }
}
