using Sair.Silo.Engine;

namespace Sair.Silo.Tests.Engine;

[Collection(TinyEngineCollection.Name)]
public sealed class EngineModelsTests
{
    [Fact]
    public async Task Each_job_slot_leases_a_generator_of_its_own_and_a_further_run_waits_for_one()
    {
        var options = TinyEngine.Options();
        options.MaxConcurrentJobs = 2;
        using var models = new EngineModels(options, restores: true);
        await models.LoadAsync();

        var first = await models.AcquireGeneratorAsync(CancellationToken.None);
        var second = await models.AcquireGeneratorAsync(CancellationToken.None);
        var third = models.AcquireGeneratorAsync(CancellationToken.None);
        await Task.Delay(200);

        Assert.NotSame(first.Generator, second.Generator);
        Assert.False(third.IsCompleted, "a third run got a generator while both were leased.");
        first.Dispose();
        using var next = await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(first.Generator, next.Generator);
        second.Dispose();
    }
}
