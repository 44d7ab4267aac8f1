using System.Runtime.CompilerServices;
using Sair.Engine.Runtime;

namespace Sair.Tests;

/// <summary>
/// Test assemblies that run libtorch go through the engine's CPU kernel guard before their first test, exactly as a
/// silo does, so a machine whose default kernels compute wrong numbers tests on the kernels the product would use.
/// </summary>
internal static class KernelGuard
{
#pragma warning disable CA2255 // A test assembly, not a library: the guard must run before any test touches libtorch.
    [ModuleInitializer]
    internal static void DecideCpuKernels() => CpuKernels.Ensure();
#pragma warning restore CA2255
}
