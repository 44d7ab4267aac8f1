using System.Runtime.InteropServices;

namespace Sair.Engine.Runtime;

/// <summary>
/// libtorch's errors reach .NET as <see cref="ExternalException"/>s whose message carries the native backtrace
/// ("Exception raised from … frame #0: c10::Error::Error(…) …"). Users get the first lines, which say what went
/// wrong; the frames stay in the inner exception for the logs.
/// </summary>
public static class NativeErrors
{
    private const string RaisedFrom = "Exception raised from ";

    /// <summary>True when <paramref name="message"/> carries a native backtrace.</summary>
    public static bool HasNativeFrames(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Contains(RaisedFrom, StringComparison.Ordinal) || message.Split('\n').Any(IsFrame);
    }

    /// <summary><paramref name="message"/> without its native backtrace, lines joined by spaces.</summary>
    public static string Clean(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var cut = message.IndexOf(RaisedFrom, StringComparison.Ordinal);
        var head = cut >= 0 ? message[..cut] : message;
        var lines = head.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0 && !IsFrame(line));
        var cleaned = string.Join(" ", lines);
        return cleaned.Length > 0 ? cleaned : "libtorch failed without a message.";
    }

    /// <summary>
    /// The exception a user should see for <paramref name="exception"/>: itself when its message is clean, else a
    /// <see cref="LibTorchException"/> with the cleaned message that keeps the original as its inner exception.
    /// </summary>
    public static Exception ForUser(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return HasNativeFrames(exception.Message) ? new LibTorchException(Clean(exception.Message), exception) : exception;
    }

    /// <summary>Awaits <paramref name="work"/>; a failure whose message carries native frames is rethrown as <see cref="ForUser"/> makes it.</summary>
    public static async Task<T> ForUserAsync<T>(Func<Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        try
        {
            return await work();
        }
        catch (Exception e) when (HasNativeFrames(e.Message))
        {
            throw ForUser(e);
        }
    }

    private static bool IsFrame(string line) => line.TrimStart().StartsWith("frame #", StringComparison.Ordinal);
}
