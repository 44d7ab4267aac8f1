using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Sair.Grains.Security;

/// <summary>
/// How the grid's TLS decides whom to trust, the same on silos and on the <c>sair</c> client: a grid has a CA of its
/// own (<see cref="SettingKeys.TlsCaPath"/> on silos, <see cref="CaVariable"/> for the client), and a peer is trusted when
/// its certificate chains to that CA. The host name is not compared: silos reach each other by pod address and clients
/// through port-forwards, so no name would hold; a certificate the grid's own CA issued is the grid's. Without a CA the
/// operating system's store and the usual name check decide.
/// </summary>
public static class GridTls
{
    /// <summary>The environment variable naming the CA (PEM) the <c>sair</c> client trusts; set, the client speaks TLS.</summary>
    public const string CaVariable = "SAIR_TLS_CA";

    /// <summary>The name a connection asks for (SNI) when it trusts the grid's own CA.</summary>
    public const string TargetHost = "sairgrid";

    /// <summary>The certificates of a PEM file, refused with a clear message when it holds none.</summary>
    public static X509Certificate2Collection LoadRoots(string pemPath)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(pemPath);
        }
        catch (Exception exception) when (exception is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"The grid's CA file '{pemPath}' could not be read: {exception.Message}", exception);
        }

        return roots.Count > 0 ? roots : throw new ArgumentException($"The grid's CA file '{pemPath}' holds no PEM certificate.");
    }

    /// <summary>Whether <paramref name="certificate"/> is a peer of the grid: it chains to <paramref name="roots"/> (or, without roots, the system store accepted it).</summary>
    public static bool Trusts(X509Certificate2Collection? roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }

        if (roots is null)
        {
            return errors == SslPolicyErrors.None;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var peer = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(peer);
    }
}
