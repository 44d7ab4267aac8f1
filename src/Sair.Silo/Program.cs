using Microsoft.AspNetCore.Builder;
using Sair.Silo;
using Sair.Silo.Adapters;
using Sair.Silo.Tools;

if (args.FirstOrDefault() is "render" or "package-prior" or "align-faces" or "train-prior" or "tenant-token")
{
    try
    {
        return args[0] switch
        {
            "render" => RenderCommand.Run(args[1..]),
            "align-faces" => AlignFacesCommand.Run(args[1..]),
            "train-prior" => TrainPriorCommand.Run(args[1..]),
            "tenant-token" => TenantTokenCommand.Run(args[1..]),
            _ => PackagePriorCommand.Run(args[1..]),
        };
    }
    catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or Sair.Engine.IO.CheckpointException or InvalidOperationException
                                   or Sair.Engine.Runtime.CpuKernelsException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddSairEngine();
builder.AddSairSilo();
var app = builder.Build();
app.MapSairEndpoints();
await app.RunAsync();
return 0;
