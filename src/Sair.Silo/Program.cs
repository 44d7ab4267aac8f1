using Sair.Silo.Tools;

if (args.FirstOrDefault() == "render")
{
    try
    {
        return RenderCommand.Run(args[1..]);
    }
    catch (Exception e) when (e is ArgumentException or IOException or Sair.Engine.IO.CheckpointException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}

Console.WriteLine("Sair.Silo: the host is wired in by the grid issue.");
return 0;
