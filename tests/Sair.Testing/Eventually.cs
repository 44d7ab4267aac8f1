namespace Sair.Testing;

public static class Eventually
{
    /// <summary>Polls <paramref name="probe"/> until <paramref name="done"/> holds; fails with the last value after the timeout.</summary>
    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:0} s for {what}; last seen: {value}");
            }

            await Task.Delay(50);
        }
    }
}
