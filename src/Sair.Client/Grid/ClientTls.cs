using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Orleans.Configuration;
using Sair.Grains.Security;

namespace Sair.Client.Grid;

/// <summary>
/// TLS from the <c>sair</c> client to a gateway that speaks it (silos with <c>Sair:Tls</c>): each gateway connection is
/// wrapped in an <see cref="SslStream"/> that trusts the grid's CA (<see cref="GridTls"/>). Written on .NET's own TLS
/// rather than Orleans' TLS package, which would bring the silo runtime into the client.
/// </summary>
internal static class ClientTls
{
    public static void Use(IClientBuilder client, X509Certificate2Collection roots) =>
        client.Configure<ClientConnectionOptions>(options =>
            options.ConfigureConnection(connection => connection.Use(next => context => RunAsync(context, next, roots))));

    private static async Task RunAsync(ConnectionContext context, ConnectionDelegate next, X509Certificate2Collection roots)
    {
        var transport = context.Transport;
        var ssl = new SslStream(new DuplexStream(transport), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = GridTls.TargetHost,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => GridTls.Trusts(roots, certificate, errors),
            }, context.ConnectionClosed);
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync();
            throw new ConnectionAbortedException(
                $"TLS with the gateway failed ({exception.Message}): does it speak TLS, and is {GridTls.CaVariable} the grid's CA?", exception);
        }

        var input = PipeReader.Create(ssl, new StreamPipeReaderOptions(leaveOpen: true));
        var output = PipeWriter.Create(ssl, new StreamPipeWriterOptions(leaveOpen: true));
        context.Transport = new TlsPipe(input, output);
        try
        {
            await next(context);
        }
        finally
        {
            await input.CompleteAsync();
            await output.CompleteAsync();
            await ssl.DisposeAsync();
            context.Transport = transport;
        }
    }

    private sealed class TlsPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    /// <summary>The connection's pipe pair as the one stream <see cref="SslStream"/> runs over.</summary>
    private sealed class DuplexStream(IDuplexPipe pipe) : Stream
    {
        private readonly Stream _input = pipe.Input.AsStream(leaveOpen: true);
        private readonly Stream _output = pipe.Output.AsStream(leaveOpen: true);

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _input.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _input.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            _output.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _output.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => _output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _input.Dispose();
                _output.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
