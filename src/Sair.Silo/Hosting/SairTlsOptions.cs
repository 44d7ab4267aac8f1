using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using Sair.Grains;
using Sair.Grains.Security;

namespace Sair.Silo.Hosting;

/// <summary>
/// The "Sair:Tls" section: TLS on every connection a silo accepts or makes (silo to silo and gateway to client), with
/// the silo's certificate and the grid's CA (<see cref="GridTls"/>). Unset, the grid speaks plain TCP (one machine, or
/// a network the operator already trusts). Clients authenticate with tenant tokens, not certificates; a peer that shows
/// a certificate must chain to the CA.
/// </summary>
public sealed class SairTlsOptions
{
    public const string Section = SettingKeys.Tls;

    /// <summary>The silo's certificate: PEM (with <see cref="KeyPath"/>, as a Kubernetes TLS secret holds it) or PKCS#12.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>; unset for a PKCS#12 file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 certificate file, if it has one.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The grid's CA (PEM); unset: the system's trust store and host names decide.</summary>
    public string? CaPath { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);

    /// <summary>Turns TLS on for <paramref name="silo"/>; a missing or unreadable file is refused at start with its setting named.</summary>
    public void Apply(ISiloBuilder silo)
    {
        var certificate = LoadCertificate();
        var roots = CaPath is { Length: > 0 } ca ? GridTls.LoadRoots(ca) : null;
        silo.UseTls(certificate, tls =>
        {
            // Clients show a tenant token, not a certificate; a peer's certificate, when shown, must be the grid's.
            tls.ClientCertificateMode = RemoteCertificateMode.AllowCertificate;
            tls.RemoteCertificateMode = RemoteCertificateMode.AllowCertificate;
            tls.RemoteCertificateValidation = (peer, _, errors) => peer is null || GridTls.Trusts(roots, peer, errors);
            if (roots is not null)
            {
                tls.OnAuthenticateAsClient = (_, client) => client.TargetHost = GridTls.TargetHost;
            }
        });
    }

    private X509Certificate2 LoadCertificate()
    {
        var path = CertificatePath!;
        try
        {
            return KeyPath is { Length: > 0 } key
                ? X509Certificate2.CreateFromPemFile(path, key)
                : X509CertificateLoader.LoadPkcs12FromFile(path, CertificatePassword);
        }
        catch (Exception exception) when (exception is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"{SettingKeys.TlsCertificatePath} '{path}'{(KeyPath is { Length: > 0 } ? $" with {SettingKeys.TlsKeyPath} '{KeyPath}'" : "")} " +
                $"could not be loaded: {exception.Message}", exception);
        }
    }
}
