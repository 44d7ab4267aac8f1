using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Sair.Engine.Alignment;
using Sair.Engine.Restoration;
using Sair.Engine.StyleGan;
using Sair.Grains.Ports;
using Sair.Grains.Training;
using Sair.Silo.Adapters;
using Sair.Silo.Health;

namespace Sair.Silo.Tests.Adapters;

[Collection(TinyEngineCollection.Name)]
public sealed class EngineHostingTests
{
    [Fact]
    public void An_engine_silo_without_a_generator_path_is_refused_naming_the_setting_and_its_variable()
    {
        // Even in a checkout that has the embedded test generator: it is used only when asked for.
        var builder = Builder(("Sair:Silo:Role", "engine"));

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddSairEngine());

        Assert.Contains("Sair:Engine:GeneratorPath", error.Message);
        Assert.Contains("Sair__Engine__GeneratorPath", error.Message);
    }

    [Fact]
    public void The_embedded_default_is_used_only_when_asked_for_and_resolves_to_a_real_checkpoint()
    {
        var engine = Builder(("Sair:Silo:Role", "engine"), ("Sair:Engine:GeneratorPath", EmbeddedDefaults.GeneratorSetting)).AddSairEngine();

        Assert.Contains(engine.Services, d => d.ServiceType == typeof(IRestorationEngine));
        Assert.True(File.Exists(EmbeddedDefaults.Generator()), "the build copies priors/faces-64 beside the silo");
    }

    [Fact]
    public void The_embedded_default_brings_the_demo_prior_s_template_and_emotion_directions_unless_the_user_set_their_own()
    {
        var options = new SairEngineOptions { GeneratorPath = EmbeddedDefaults.GeneratorSetting };
        EmbeddedDefaults.Apply(options);

        using var generator = StyleGan2Loader.Load(options.GeneratorPath!);
        Assert.Equal(64, generator.Config.Size);
        Assert.Equal(5, AlignmentTemplate.Load(options.AlignmentTemplatePath!).PointCount);
        using var directions = EmotionDirections.LoadOfficialFolder(options.EmotionDirectionsPath!);
        Assert.Equal((generator.NLatent, generator.Config.StyleDim), (directions.NLatent, directions.StyleDim));

        var own = new SairEngineOptions { GeneratorPath = EmbeddedDefaults.GeneratorSetting, EmotionDirectionsPath = "/mine/emotions" };
        EmbeddedDefaults.Apply(own);
        Assert.Equal("/mine/emotions", own.EmotionDirectionsPath);
    }

    [Fact]
    public void An_engine_silo_gets_the_engine_and_the_analyzer_a_coordinator_only_the_analyzer()
    {
        var engine = Builder(("Sair:Silo:Role", "engine"), ("Sair:Engine:GeneratorPath", TinyEngine.GeneratorPath)).AddSairEngine();
        var coordinator = Builder(("Sair:Silo:Role", "coordinator")).AddSairEngine();

        Assert.Contains(engine.Services, d => d.ServiceType == typeof(IRestorationEngine));
        Assert.Contains(engine.Services, d => d.ServiceType == typeof(ITrainingEngine));
        Assert.Contains(engine.Services, d => d.ServiceType == typeof(IFaceAnalyzer));
        Assert.DoesNotContain(coordinator.Services, d => d.ServiceType == typeof(IRestorationEngine));
        Assert.DoesNotContain(coordinator.Services, d => d.ServiceType == typeof(ITrainingEngine));
        Assert.Contains(coordinator.Services, d => d.ServiceType == typeof(IFaceAnalyzer));
        Assert.Contains(coordinator.Services, d => d.ServiceType == typeof(IEngineReadiness));
    }

    [Theory]
    [InlineData("facenet")]
    [InlineData("iresnet50")]
    [InlineData("faceapi:/models/x.pth")]
    public void An_unknown_identity_net_is_refused_listing_the_choices(string identityNet)
    {
        var options = TinyEngine.Options();
        options.IdentityNet = identityNet;

        var error = Assert.Throws<InvalidOperationException>(() => options.Validate(requireGenerator: true));

        Assert.Contains(IdentityNetSpec.Usage, error.Message);
        Assert.Contains("Sair:Engine:IdentityNet", error.Message);
    }

    [Fact]
    public void The_reference_store_setting_reaches_both_caches_and_an_empty_budget_is_refused()
    {
        var options = TinyEngine.Options();
        options.ReferenceStore = Path.Combine(Path.GetTempPath(), $"sair-references-{Guid.NewGuid():N}");
        options.ReferenceStoreMegabytes = 3;
        using (var models = new EngineModels(options, restores: true))
        {
            Assert.Equal(Path.GetFullPath(options.ReferenceStore), models.TuningCache.Store!.Directory);
            Assert.Same(models.TuningCache.Store, models.InversionCache.Store);
            Assert.Equal(3L << 20, models.TuningCache.Store.BudgetBytes);
        }

        options.ReferenceStore = null;
        using (var memoryOnly = new EngineModels(options, restores: true))
        {
            Assert.Null(memoryOnly.TuningCache.Store);
            Assert.Null(memoryOnly.InversionCache.Store);
        }

        options.ReferenceStoreMegabytes = 0;
        var error = Assert.Throws<InvalidOperationException>(() => options.Validate(requireGenerator: true));
        Assert.Contains("Sair:Engine:ReferenceStoreMegabytes", error.Message);
    }

    [Fact]
    public async Task Models_that_cannot_load_leave_the_engine_unready_and_jobs_fail_with_the_cause()
    {
        var options = TinyEngine.Options();
        options.GeneratorPath = Path.Combine(Path.GetTempPath(), "no-such-generator.pt");
        using var models = new EngineModels(options, restores: true);

        await Assert.ThrowsAnyAsync<Exception>(models.LoadAsync);

        Assert.False(models.Readiness.IsReady);
        var engine = new SairRestorationEngine(models);
        var request = new RestorationRequest("unready", TinyEngine.BlankPng(16, 16), [], new RestorationOptions("paper", 5, null, 0, 1, 5),
            null, (_, _) => Task.CompletedTask, FaceFraming.Ffhq);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => engine.RestoreAsync(request, new Progress<RestorationProgress>(), CancellationToken.None));
        Assert.Contains("no-such-generator.pt", error.Message);
    }

    private static HostApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)));
        return builder;
    }
}
