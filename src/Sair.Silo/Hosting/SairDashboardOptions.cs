using Sair.Grains;

namespace Sair.Silo.Hosting;

/// <summary>
/// The Orleans Dashboard (section "Sair:Dashboard"): off by default. When enabled, every silo collects the dashboard's
/// grain and silo statistics (the dashboard asks each silo for its own) and coordinator silos serve the page on
/// <see cref="Port"/>, a port of its own beside the health port.
/// </summary>
public sealed class SairDashboardOptions
{
    public const string Section = SettingKeys.Dashboard;

    public const int DefaultPort = 8081;

    public bool Enabled { get; set; }

    public int Port { get; set; } = DefaultPort;
}
