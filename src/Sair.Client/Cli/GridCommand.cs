using Sair.Client.Grid;
using Sair.Client.Restoration;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client.Cli;

/// <summary>
/// A command that may talk to the grid. It connects only when it first needs to (so bad input is refused before a
/// silo is started), and turns the failures every command shares into one message and an exit code.
/// </summary>
public abstract class GridCommand<TSettings>(IGridConnector connector, IAnsiConsole console) : AsyncCommand<TSettings>
    where TSettings : GridSettings
{
    protected IAnsiConsole Console => console;

    public sealed override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        await using var session = new GridSession(connector, settings.Target(), console);
        try
        {
            return await RunAsync(session, settings, cancellationToken);
        }
        catch (Exception exception) when (exception is GridUnavailableException or CommandFailedException)
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(exception.Message)}");
            return ExitCodes.Failure;
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(exception.Message)}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            console.MarkupLine("[yellow]Interrupted.[/] Work already submitted keeps running on the grid ('sair jobs' shows it).");
            return ExitCodes.Interrupted;
        }
    }

    protected abstract Task<int> RunAsync(GridSession grid, TSettings settings, CancellationToken cancellationToken);

    protected void Error(string message) => console.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
}

/// <summary>The grid connection of one command, opened on first use.</summary>
public sealed class GridSession(IGridConnector connector, GridTarget target, IAnsiConsole console) : IAsyncDisposable
{
    private IGridConnection? _connection;

    public async Task<IGridConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is null)
        {
            _connection = await connector.ConnectAsync(target, cancellationToken);
            console.MarkupLine($"[grey]grid: {Markup.Escape(_connection.Description)}[/]");
        }

        return _connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
