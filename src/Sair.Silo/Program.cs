using Microsoft.Extensions.Hosting;
using Sair.Silo;

var builder = Host.CreateApplicationBuilder(args);
builder.AddSairSilo();
await builder.Build().RunAsync();
