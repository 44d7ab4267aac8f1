using Sair.Engine.Runtime;

return CpuKernels.RunProbe(args, Console.Out, Console.Error);
