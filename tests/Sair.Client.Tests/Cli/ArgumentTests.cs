using Sair.Client.Cli;
using Sair.Client.Commands;
using Sair.Client.Tests.Support;

namespace Sair.Client.Tests.Cli;

/// <summary>Bad command lines end with exit code 64 and a message naming the fix, before any grid is touched.</summary>
public sealed class ArgumentTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sair-args-").FullName;

    public ArgumentTests()
    {
        File.WriteAllBytes(Path.Combine(_folder, "photo.png"), [1, 2, 3]);
        Environment.SetEnvironmentVariable("SAIR_CLUSTER", null);
        Environment.SetEnvironmentVariable("SAIR_CLUSTER_ID", null);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Every_option_the_grid_can_refuse_is_worded_with_the_flag_that_sets_it()
    {
        var valid = new Sair.Grains.Ports.RestorationOptions(Sair.Grains.Ports.RestorationPresets.Default, 400, null, 0, 0, 50);
        Sair.Grains.Ports.RestorationOptions[] invalid =
        [
            valid with { Preset = "fast" }, valid with { Emotion = "smug" }, valid with { Iterations = 0 }, valid with { CheckpointEvery = 0 },
            valid with { Face = (Sair.Grains.Ports.FaceChoice)9 }, valid with { IdentityWeight = -1 }, valid with { JpegQuality = 0 },
            valid with { EmotionStrength = -1 }, valid with { Upscale = 0 },
        ];

        Assert.Null(valid.Problem());
        var fields = invalid.Select(o => o.Problem()!.Field).ToList();
        Assert.Equal(invalid.Length, fields.Distinct().Count());
        Assert.All(fields, field => Assert.True(EngineSettings.OptionFlags.ContainsKey(field), $"no flag for RestorationOptions.{field}"));
    }

    [Theory]
    [InlineData("restore --pool family", "-i/--input is required")]
    [InlineData("restore -i {photo}", "one of --reference <PATH> or --pool <NAME>, or --no-identity")]
    [InlineData("restore -i {photo} --pool family --reference {photo}", "give one of --reference")]
    [InlineData("restore -i {photo} --pool family --no-identity", "or --no-identity to restore without one")]
    [InlineData("restore -i {folder}/missing.jpg --pool family", "does not exist")]
    [InlineData("restore -i {photo} --pool family --emotion smug", "--emotion 'smug' is unknown")]
    [InlineData("restore -i {photo} --pool family --preset fast", "--preset 'fast' is unknown")]
    [InlineData("restore -i {photo} --pool family --iterations 0", "--iterations 0 is out of range")]
    [InlineData("restore -i {photo} --pool family --iterations 100001", "--iterations 100001 is out of range: this grid allows at most 100000 (Sair:Limits:MaxIterations)")]
    [InlineData("restore -i {photo} --pool family --upscale 20", "--upscale 20 is out of range")]
    [InlineData("restore -i {photo} --pool family --jpeg-quality 101", "--jpeg-quality 101 is out of range")]
    [InlineData("restore -i {photo} --pool family -w 11", "--identity-weight 11 is out of range")]
    [InlineData("restore -i {photo} --pool family --ext gif", "--ext 'gif' is unknown")]
    [InlineData("restore -i {photo} --pool family -o {photo}", "is a file: name a folder")]
    [InlineData("restore -i {photo} --pool family -o {photo}/results", "cannot be written")]
    [InlineData("album results some-album -o {photo}", "is a file: name a folder")]
    [InlineData("restore -i {photo} --pool family --suffix ../x", "--suffix '../x' is not valid")]
    [InlineData("album results some-album --ext tiff", "--ext 'tiff' is unknown")]
    [InlineData("restore -i {photo} --pool family --identity-weight -0.5", "--identity-weight -0.5 is out of range")]
    [InlineData("restore -i {photo} --pool family --match-threshold 1.5", "--match-threshold 1.5 is not a similarity")]
    [InlineData("restore -i {photo} --pool family --match-threshold high", "--match-threshold high is not a similarity")]
    [InlineData("restore -i {photo} --pool family --emotion-strength 2", "name the emotion too")]
    [InlineData("restore -i {photo} --pool family --emotion happy --emotion-strength 0", "--emotion-strength 0 is out of range")]
    [InlineData("restore -i {photo} --pool family --only-center-face --largest-face", "give one of them")]
    [InlineData("restore -i {photo} --pool family --min-face-size 0", "--min-face-size 0 is out of range")]
    [InlineData("restore -i {photo} --pool family --person ada --skip-unmatched", "apply to pool matching")]
    [InlineData("restore -i {photo} --reference {photo} --person ada", "--person picks someone from a pool")]
    [InlineData("restore -i {photo} --pool family --cluster nohost", "is not host:port")]
    [InlineData("restore -i {photo} --pool family --cluster 127.0.0.1:30000 --image-root {folder}", "Unknown option 'image-root'")]
    [InlineData("restore -i {photo} --pool family --generator {folder}/g.pt", "--generator")]
    [InlineData("restore -i {photo} --pool family --frobnicate", "Unknown option 'frobnicate'")]
    [InlineData("album submit -i {photo} --pool family --album-id ../up", "--album-id '../up' is not valid")]
    [InlineData("album watch ../etc", "is not an album id")]
    [InlineData("pool enroll family", "PERSON")]
    [InlineData("pool list ../family", "pool name '../family' is not valid")]
    [InlineData("restore -i {photo} --pool a/b", "--pool: pool name 'a/b' is not valid")]
    [InlineData("pool match family {folder}/nope.jpg", "does not exist")]
    [InlineData("jobs --last 0", "--last 0 is out of range")]
    [InlineData("demo --samples {folder}", "No sample album found")]
    [InlineData("paint", "Unknown command 'paint'")]
    [InlineData("prior train -o {folder}/out", "--data is required")]
    [InlineData("prior train --data {folder}", "-o/--output is required")]
    [InlineData("prior train --data {folder}/none -o {folder}/out", "/none' does not exist")]
    [InlineData("prior train --data {folder} -o {folder}/out --size 48", "--size 48 is not offered")]
    [InlineData("prior train --data {folder} -o {folder}/out --batch 6", "--batch 6 is not a multiple of 4")]
    [InlineData("prior train --data {folder} -o {folder}/out --images 8", "--images 8 is less than one batch")]
    [InlineData("prior train --data {folder} -o {folder}/out --ffd-every -1", "--ffd-every -1 is out of range")]
    [InlineData("prior train --data {folder} -o {folder}/out --job-id ../up", "--job-id '../up' is not valid")]
    [InlineData("prior status ../up", "<JOB-ID> '../up' is not a job id")]
    [InlineData("emotions fit --samples 100", "-o/--output is required")]
    [InlineData("emotions fit -o {folder}/dirs --generator {folder}/g.pt", "/g.pt' does not exist")]
    [InlineData("emotions fit -o {folder}/dirs --samples 10", "--samples 10 is too few")]
    public async Task A_bad_command_line_is_a_usage_error_and_starts_nothing(string line, string expected)
    {
        var grid = new NoGridConnector();
        using var cli = new Support.Cli(grid);
        var args = line.Replace("{photo}", Path.Combine(_folder, "photo.png")).Replace("{folder}", _folder).Split(' ');

        var exit = await cli.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(expected, System.Text.RegularExpressions.Regex.Replace(cli.Output, @"\s+", " "), StringComparison.Ordinal);
        Assert.Equal(0, grid.Calls);
    }

    [Fact]
    public async Task An_unreachable_grid_is_a_failure_with_the_reason()
    {
        var grid = new NoGridConnector();
        using var cli = new Support.Cli(grid);

        var exit = await cli.RunAsync("pool", "list", "family");

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("test: no grid here", cli.Output, StringComparison.Ordinal);
        Assert.Equal(1, grid.Calls);
    }

    [Fact]
    public void No_identity_is_a_reference_choice_of_its_own()
    {
        var settings = new RestoreSettings { Input = Path.Combine(_folder, "photo.png"), NoIdentity = true };

        Assert.True(settings.Validate().Successful);
        var choice = settings.References();
        Assert.True(choice.NoIdentity);
        Assert.Null(choice.Pool);
        Assert.Empty(choice.ReferencePhotos);
        Assert.Contains("no identity", choice.Describe());
    }

    [Fact]
    public void Engine_settings_map_to_restoration_options()
    {
        var settings = new RestoreSettings { Preset = "Official", Iterations = 30, Emotion = "happy", Seed = 9, CheckpointEvery = 50, JpegQuality = 30 };

        var options = settings.Options();

        Assert.Equal("official", options.Preset);
        Assert.Equal(30, options.Iterations);
        Assert.Equal("happy", options.Emotion);
        Assert.Equal(9, options.Seed);
        // A checkpoint interval longer than the run is clamped to the run, so the options stay valid.
        Assert.Equal(30, options.CheckpointEvery);
        Assert.Equal(30, options.JpegQuality);
        Assert.Null(new RestoreSettings { Emotion = "auto" }.Options().Emotion);
        Assert.Null(new RestoreSettings().Options().JpegQuality);
        Assert.Null(new RestoreSettings().Options().IdentityWeight);
        Assert.Equal(0.5, new RestoreSettings { IdentityWeight = 0.5 }.Options().IdentityWeight);
    }

    [Fact]
    public void Gateways_parse_as_host_port_lists()
    {
        var gateways = GridSettings.ParseGateways("127.0.0.1:30000, localhost:30001");

        Assert.Equal(2, gateways.Count);
        Assert.Equal(30000, gateways[0].Port);
        Assert.Equal(30001, gateways[1].Port);
        Assert.Throws<FormatException>(() => GridSettings.ParseGateways("127.0.0.1"));
        Assert.Throws<FormatException>(() => GridSettings.ParseGateways("127.0.0.1:70000"));
    }

    [Fact]
    public void The_cluster_comes_from_the_environment_when_no_option_is_given()
    {
        try
        {
            Environment.SetEnvironmentVariable("SAIR_CLUSTER", "127.0.0.1:30000");
            Environment.SetEnvironmentVariable("SAIR_CLUSTER_ID", "sairgrid-k8s");

            var target = new GridSettings().Target();

            Assert.Equal(30000, Assert.Single(target.Gateways!).Port);
            Assert.Equal("sairgrid-k8s", target.ClusterId);
            Assert.Equal("other", new GridSettings { ClusterId = "other" }.Target().ClusterId);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SAIR_CLUSTER", null);
            Environment.SetEnvironmentVariable("SAIR_CLUSTER_ID", null);
        }

        Assert.Null(new GridSettings().Target().Gateways);
        Assert.Null(new GridSettings().Target().ClusterId);
    }
}
