using Sair.Grains.Jobs;

namespace Sair.Grains.Tests.Jobs;

/// <summary>Which failures of a run are the grid's (retried by the job) and which the work's (recorded against it).</summary>
public sealed class TransienceTests
{
    [Fact]
    public void The_grids_failures_are_transient_and_the_works_are_not()
    {
        Assert.True(Transience.IsTransient(new TimeoutException("call timed out")));
        Assert.True(Transience.IsTransient(new SiloUnavailableException("gone")));
        Assert.True(Transience.IsTransient(new IOException("No space left on device")));
        Assert.True(Transience.IsTransient(new GridException("Blob storage condition not Satisfied", "Orleans.Storage.InconsistentStateException")));
        Assert.True(Transience.IsTransient(new GridException("Retry failed after 6 tries.", typeof(AggregateException).FullName!)));
        Assert.True(Transience.IsTransient(new AggregateException(new TimeoutException(), new IOException())));

        Assert.False(Transience.IsTransient(new FileNotFoundException("albums/x/inputs/0.png")));
        Assert.False(Transience.IsTransient(new InvalidDataException("truncated JPEG")));
        Assert.False(Transience.IsTransient(new ArgumentException("no face")));
        Assert.False(Transience.IsTransient(new InvalidOperationException("NaN in the histogram term")));
        Assert.False(Transience.IsTransient(new AggregateException(new TimeoutException(), new ArgumentException())));
        Assert.False(Transience.IsTransient(new GridException("engine error", "Sair.Engine.Runtime.CpuKernelsException")));
    }
}
