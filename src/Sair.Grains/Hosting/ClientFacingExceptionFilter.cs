using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Sair.Grains.Hosting;

/// <summary>
/// On calls that come from a client, turns an exception whose type the client's contract does not carry (an Azure
/// storage error, an engine error) into a <see cref="GridException"/> with the same message, so that the client can
/// show it. The contract's own exceptions and .NET's and Orleans' pass unchanged, as does every call between grains
/// (a grain catching another grain's exception still sees its real type). The original, with its stack, goes to the
/// silo's log.
/// </summary>
internal sealed class ClientFacingExceptionFilter(ILogger<ClientFacingExceptionFilter> logger) : IIncomingGrainCallFilter
{
    // Orleans gives a client's calls a source id of this grain type (its ClientGrainId).
    private const string ClientGrainType = "sys.client";

    private static readonly Assembly Contract = typeof(GridException).Assembly;

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception exception) when (FromClient(context.SourceId) && Translate(exception) is { } translated)
        {
            logger.LogWarning(exception, "{Interface}.{Method} failed for a client; it receives the message only", context.InterfaceName, context.MethodName);
            throw translated;
        }
    }

    internal static bool FromClient(GrainId? source) =>
        source is { } id && id.Type.ToString()!.StartsWith(ClientGrainType, StringComparison.Ordinal);

    /// <summary>
    /// The exception a client receives instead of <paramref name="exception"/>, or null to pass it as it is: an
    /// exception is passed when its type and those of all its inner exceptions are the contract's, .NET's or Orleans'.
    /// </summary>
    internal static GridException? Translate(Exception exception) =>
        Loadable(exception) ? null : new GridException(exception.Message, exception.GetType().FullName ?? exception.GetType().Name);

    private static bool Loadable(Exception exception)
    {
        var assembly = exception.GetType().Assembly;
        var own = assembly == Contract || assembly == typeof(object).Assembly
            || (assembly.GetName().Name is { } name && (name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Orleans.", StringComparison.Ordinal)));
        var inner = exception is AggregateException aggregate ? aggregate.InnerExceptions : exception.InnerException is { } one ? [one] : [];
        return own && inner.All(Loadable);
    }
}
