namespace Sair.Testing;

/// <summary>
/// Holds the first write of one path until the test releases it: before it lands (the writer decided to write, the blob
/// is not there yet) or after (the blob is there, the writer has not gone on), so a test can finish, cancel or fail the
/// job over in between. Gates on other paths stay in force.
/// </summary>
public sealed class PutGate
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _path;
    private int _held;

    private PutGate(string path) => _path = path;

    /// <summary>Completes once the write is being held.</summary>
    public Task Entered => _entered.Task;

    public static PutGate BeforeLanding(InMemoryImageStore images, string path)
    {
        var gate = new PutGate(path);
        images.BeforePut = Chain(images.BeforePut, gate.HoldAsync);
        return gate;
    }

    public static PutGate AfterLanding(InMemoryImageStore images, string path)
    {
        var gate = new PutGate(path);
        images.AfterPut = Chain(images.AfterPut, gate.HoldAsync);
        return gate;
    }

    public void Release() => _released.TrySetResult();

    private static Func<string, Task> Chain(Func<string, Task>? earlier, Func<string, Task> hold) => earlier is null
        ? hold
        : async path =>
        {
            await earlier(path);
            await hold(path);
        };

    private async Task HoldAsync(string path)
    {
        if (path != _path || Interlocked.Exchange(ref _held, 1) != 0)
        {
            return;
        }

        _entered.TrySetResult();
        await _released.Task;
    }
}
