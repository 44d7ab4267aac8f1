namespace Sair.Engine.Runtime;

/// <summary>libtorch refused an operation; the message is libtorch's own, without the native backtrace.</summary>
public sealed class LibTorchException(string message, Exception inner) : InvalidOperationException(message, inner);
