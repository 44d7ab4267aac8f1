using Sair.Silo.Adapters;

namespace Sair.Silo.Tests.Adapters;

[Collection(TinyEngineCollection.Name)]
public sealed class EngineModelsTests
{
    [Fact]
    public async Task Job_slots_share_the_one_generator_and_a_further_run_waits_for_a_slot()
    {
        var options = TinyEngine.Options();
        options.MaxConcurrentJobs = 2;
        using var models = new EngineModels(options, restores: true);
        await models.LoadAsync();

        var first = await models.AcquireGeneratorAsync(CancellationToken.None);
        var second = await models.AcquireGeneratorAsync(CancellationToken.None);
        var third = models.AcquireGeneratorAsync(CancellationToken.None);
        await Task.Delay(200);

        Assert.Same(first.Generator, second.Generator);
        Assert.Same(models.Generator, first.Generator);
        Assert.False(third.IsCompleted, "a third run got a slot while both were taken.");
        Assert.Null(models.Batcher);
        // A lease given back twice frees its slot once.
        first.Dispose();
        first.Dispose();
        using var next = await third.WaitAsync(TimeSpan.FromSeconds(5));
        var fourth = models.AcquireGeneratorAsync(CancellationToken.None);
        await Task.Delay(200);
        Assert.False(fourth.IsCompleted, "a lease given back twice freed two slots.");
        second.Dispose();
        using var last = await fourth.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 2)]
    public void A_batch_larger_than_the_job_slots_or_below_1_is_refused_naming_both_settings(int batchSize, int slots)
    {
        var options = TinyEngine.Options();
        options.MaxConcurrentJobs = slots;
        options.BatchSize = batchSize;
        var error = Assert.Throws<InvalidOperationException>(() => options.Validate(requireGenerator: true));
        Assert.Contains("Sair:Engine:BatchSize", error.Message);
        Assert.Contains("MaxConcurrentJobs", error.Message);
    }
}
