using Sair.Client.Grid;
using Spectre.Console;

namespace Sair.Client.Tests.Support;

/// <summary>Runs sair in-process against a given grid, capturing what it prints (no colours, fixed width; live displays only when interactive).</summary>
public sealed class Cli : IDisposable
{
    private readonly StringWriter _output = new();

    public Cli(IGridConnector connector, int width = 100, bool interactive = false)
    {
        Home = new SairHome(Directory.CreateTempSubdirectory("sair-home-").FullName);
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = interactive ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(_output),
        });
        Console.Profile.Width = width;
        Connector = connector;
    }

    public IAnsiConsole Console { get; }

    public IGridConnector Connector { get; }

    public SairHome Home { get; }

    public string Output => _output.ToString();

    public Task<int> RunAsync(params string[] args) => SairApp.Create(Connector, Console, Home).RunAsync(args);

    /// <summary>Runs with a token that stands for Ctrl+C.</summary>
    public Task<int> RunAsync(CancellationToken interrupt, params string[] args) =>
        SairApp.Create(Connector, Console, Home).RunAsync(args, interrupt);

    public void Dispose()
    {
        _output.Dispose();
        Directory.Delete(Home.Root, recursive: true);
    }
}

/// <summary>A connector that must not be used: proves a command refused its input before touching the grid.</summary>
public sealed class NoGridConnector : IGridConnector
{
    public int Calls { get; private set; }

    public Task<IGridConnection> ConnectAsync(GridTarget target, CancellationToken cancellationToken)
    {
        Calls++;
        throw new GridUnavailableException("test: no grid here");
    }
}
