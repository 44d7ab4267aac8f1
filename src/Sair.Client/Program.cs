using Sair.Client;
using Sair.Client.Grid;
using Spectre.Console;

var console = AnsiConsole.Console;
var home = SairHome.FromEnvironment();
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops cleanly (submitted work keeps running on the grid); a second one ends the process.
    if (!interrupt.IsCancellationRequested)
    {
        e.Cancel = true;
        interrupt.Cancel();
    }
};

var connector = new OrleansGridConnector(home, message => console.MarkupLine($"[grey]{Markup.Escape(message)}[/]"));
return await SairApp.Create(connector, console, home).RunAsync(args, interrupt.Token);
