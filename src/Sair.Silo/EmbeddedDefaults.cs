namespace Sair.Silo;

/// <summary>
/// What an engine silo uses when it is given no generator. SairGrid does not ship a trained face prior yet (the demo
/// prior is being trained); until it does, a development checkout falls back to the 64 px rosinality oracle generator of
/// <c>../shared/fixtures/stylegan2</c> — random weights, made for numerical tests: it exercises the whole pipeline but
/// renders textures, not faces. It is used only where asked for — <c>Sair__Engine__GeneratorPath=embedded</c> (what
/// <c>sair</c> gives the local silo it starts) or the render tool without <c>--generator</c> — so a deployment that
/// forgets its generator is refused, never silently given a test network.
/// </summary>
public static class EmbeddedDefaults
{
    /// <summary>The Sair:Engine:GeneratorPath value that asks for the embedded default.</summary>
    public const string GeneratorSetting = "embedded";

    private const string FixtureGenerator = "s64_sd32_m2_cm1_div16";

    /// <summary>The fallback generator checkpoint, or null when none is on this machine.</summary>
    public static string? Generator()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SairGrid.sln")))
            {
                var fixture = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "fixtures", "stylegan2", FixtureGenerator, FixtureGenerator + ".pt"));
                return File.Exists(fixture) ? fixture : null;
            }
        }
        return null;
    }

    /// <summary>A one-line warning for logs and tools when the fallback is in use.</summary>
    public static string Warning(string path) =>
        $"no generator configured: using the random-weight test generator {path} (textures, not faces); set Sair__Engine__GeneratorPath or --generator for real results";
}
