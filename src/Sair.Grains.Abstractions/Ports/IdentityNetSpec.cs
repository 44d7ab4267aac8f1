namespace Sair.Grains.Ports;

/// <summary>
/// Which identity network an engine silo loads (setting <c>Sair:Engine:IdentityNet</c>, the CLI's
/// <c>--identity-net</c>): <c>faceapi</c> or <c>faceres</c> (the npm networks), or <c>iresnet50:&lt;weights&gt;</c> /
/// <c>irse50:&lt;weights&gt;</c> for ArcFace backbones. One parser for the client's check and the silo's loading.
/// </summary>
/// <param name="Kind">faceapi, faceres, iresnet50 or irse50 (lower case).</param>
/// <param name="WeightsPath">The weights file of an ArcFace backbone; null for the npm nets.</param>
public sealed record IdentityNetSpec(string Kind, string? WeightsPath)
{
    public const string FaceApi = "faceapi";
    public const string FaceRes = "faceres";
    public const string IResNet50 = "iresnet50";
    public const string IrSe50 = "irse50";

    /// <summary>The accepted forms, for messages.</summary>
    public const string Usage = "faceapi, faceres, iresnet50:<weights.pth> or irse50:<weights.pth>";

    /// <summary>The spec <paramref name="value"/> writes (any case, blanks around the parts ignored), or null when it is not one.</summary>
    public static IdentityNetSpec? TryParse(string? value)
    {
        var text = value?.Trim() ?? "";
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var kind = (colon < 0 ? text : text[..colon]).Trim().ToLowerInvariant();
        var path = colon < 0 ? null : text[(colon + 1)..].Trim();
        return kind switch
        {
            FaceApi or FaceRes when path is null => new IdentityNetSpec(kind, null),
            IResNet50 or IrSe50 when !string.IsNullOrEmpty(path) => new IdentityNetSpec(kind, path),
            _ => null,
        };
    }

    /// <summary>The setting's text: <c>kind</c> or <c>kind:weights</c>.</summary>
    public override string ToString() => WeightsPath is null ? Kind : $"{Kind}:{WeightsPath}";
}
