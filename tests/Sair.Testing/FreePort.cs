using System.Net;
using System.Net.Sockets;

namespace Sair.Testing;

public static class FreePort
{
    /// <summary>A TCP port free on 127.0.0.1 right now (the OS picks it), for a process the test starts next.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitUntilAcceptingAsync(int port, TimeSpan timeout, Func<bool> stillRunning, Func<string> log)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!stillRunning())
            {
                throw new InvalidOperationException($"The process exited before listening on port {port}:\n{log()}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"Nothing listened on port {port} within {timeout}:\n{log()}");
    }
}
