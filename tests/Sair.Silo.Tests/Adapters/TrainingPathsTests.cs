using Sair.Grains.Training;
using Sair.Silo.Adapters;

namespace Sair.Silo.Tests.Adapters;

/// <summary>
/// Paths a client gives a training job on a shared grid: confined to the runs root (writes) and the data root (reads),
/// through '..', absolute paths, symbolic links (on the way and inside the data) and another job's output folder —
/// refused before anything is read or written, with the same answer whether a path outside the roots exists or not.
/// </summary>
public sealed class TrainingPathsTests : IDisposable
{
    private readonly string _top = Directory.CreateTempSubdirectory("sair-training-paths-").FullName;
    private readonly string _runs;
    private readonly string _data;
    private readonly string _outside;
    private readonly TrainingPaths _paths;

    public TrainingPathsTests()
    {
        _runs = Directory.CreateDirectory(Path.Combine(_top, "training", "runs")).FullName;
        _data = Directory.CreateDirectory(Path.Combine(_top, "training", "data")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_top, "elsewhere")).FullName;
        Directory.CreateDirectory(Path.Combine(_data, "faces"));
        File.WriteAllBytes(Path.Combine(_data, "faces", "a.png"), [1]);
        File.WriteAllBytes(Path.Combine(_outside, "secret.png"), [2]);
        _paths = new TrainingPaths(_runs, _data);
    }

    public void Dispose() => Directory.Delete(_top, recursive: true);

    [Fact]
    public void A_tenants_job_stays_in_its_tenants_folder_of_each_root_and_needs_the_roots()
    {
        var aliceData = Directory.CreateDirectory(Path.Combine(_data, "alice", "faces")).FullName;
        Directory.CreateDirectory(Path.Combine(_data, "bob", "faces"));

        _paths.Check(Prior("alice-a", aliceData, Path.Combine(_runs, "alice", "run-1")) with { Tenant = "alice" });

        Assert.True(File.Exists(Path.Combine(_runs, "alice", "run-1", TrainingPaths.OwnerFileName)));
        var refusals = new[]
        {
            Prior("alice-b", Path.Combine(_data, "bob", "faces"), Path.Combine(_runs, "alice", "run-2")),
            Prior("alice-c", Path.Combine(_data, "faces"), Path.Combine(_runs, "alice", "run-3")),
            Prior("alice-d", aliceData, Path.Combine(_runs, "bob", "run-1")),
            Prior("alice-e", aliceData, Path.Combine(_runs, "alice", "..", "bob", "run-2")),
        };
        foreach (var request in refusals)
        {
            var refused = Assert.Throws<InvalidOperationException>(() => _paths.Check(request with { Tenant = "alice" }));
            Assert.Contains(Path.Combine(_runs, "alice"), refused.Message);
        }

        Assert.False(Directory.Exists(Path.Combine(_runs, "bob")));
        var noRoots = Assert.Throws<InvalidOperationException>(() =>
            new TrainingPaths(null, null).Check(Prior("alice-f", aliceData, Path.Combine(_runs, "alice", "run-4")) with { Tenant = "alice" }));
        Assert.Contains("no training roots", noRoots.Message);
    }

    [Fact]
    public void A_job_inside_its_roots_passes_and_its_output_folder_is_claimed_for_it()
    {
        var output = Path.Combine(_runs, "faces64");

        _paths.Check(Prior("job-a", Path.Combine(_data, "faces"), output));

        Assert.Equal("job-a", File.ReadAllText(Path.Combine(output, TrainingPaths.OwnerFileName)).Trim());
        // A retry of the same job (another attempt) finds its own folder.
        _paths.Check(Prior("job-a", Path.Combine(_data, "faces"), output));
    }

    [Fact]
    public void Another_jobs_output_folder_and_a_folder_of_foreign_files_are_refused()
    {
        var output = Path.Combine(_runs, "faces64");
        _paths.Check(Prior("job-a", Path.Combine(_data, "faces"), output));

        var taken = Assert.Throws<InvalidOperationException>(() => _paths.Check(Prior("job-b", Path.Combine(_data, "faces"), output)));
        Assert.Contains("belongs to another training job", taken.Message, StringComparison.Ordinal);

        var foreign = Directory.CreateDirectory(Path.Combine(_runs, "old")).FullName;
        File.WriteAllBytes(Path.Combine(foreign, "generator.safetensors"), [3]);
        var held = Assert.Throws<InvalidOperationException>(() => _paths.Check(Prior("job-c", Path.Combine(_data, "faces"), foreign)));
        Assert.Contains("already holds files no training job owns", held.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(foreign, TrainingPaths.OwnerFileName)));
    }

    [Theory]
    [InlineData("{runs}/../../elsewhere/out")]
    [InlineData("{outside}/out")]
    [InlineData("{data}/out")]
    [InlineData("{runs}")]
    [InlineData("/etc/sair-out")]
    public void An_output_folder_outside_the_runs_root_is_refused(string output)
    {
        var error = Assert.Throws<InvalidOperationException>(() => _paths.Check(Prior("job", Path.Combine(_data, "faces"), Expand(output))));

        Assert.Contains("is not under", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_outside, "out")));
    }

    [Fact]
    public void Outside_the_roots_a_path_gets_the_same_answer_whether_it_exists_or_not()
    {
        string Answer(string data) =>
            Assert.Throws<InvalidOperationException>(() => _paths.Check(Prior("job", data, Path.Combine(_runs, "x")))).Message
                .Replace(data, "<path>", StringComparison.Ordinal);

        Assert.Equal(Answer(_outside), Answer(Path.Combine(_top, "no-such-folder")));
        Assert.Equal(Answer(Path.Combine(_outside, "secret.png")), Answer(Path.Combine(_outside, "no-such.png")));
    }

    [Fact]
    public void A_generator_to_fit_must_lie_under_the_roots()
    {
        var inside = Path.Combine(_runs, "prior", "generator.safetensors");
        _paths.Check(new TrainingRequest("fit-a", 0, TrainingJobSpec.Emotions(Path.Combine(_runs, "emotions-a"), inside)));

        var error = Assert.Throws<InvalidOperationException>(() =>
            _paths.Check(new TrainingRequest("fit-b", 0, TrainingJobSpec.Emotions(Path.Combine(_runs, "emotions-b"), Path.Combine(_outside, "secret.png")))));
        Assert.Contains("The generator", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symbolic_link_on_the_way_out_of_a_root_is_refused()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // runs/escape → elsewhere: "runs/escape/out" is under the runs root by name only.
        Directory.CreateSymbolicLink(Path.Combine(_runs, "escape"), _outside);
        var error = Assert.Throws<InvalidOperationException>(() => _paths.Check(Prior("job", Path.Combine(_data, "faces"), Path.Combine(_runs, "escape", "out"))));
        Assert.Contains("through a symbolic link", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_outside, "out")));

        // A link to a link that leads out, and a cycle, are refused too; a link that stays inside passes.
        Directory.CreateSymbolicLink(Path.Combine(_data, "hop"), Path.Combine(_runs, "escape"));
        Assert.Throws<InvalidOperationException>(() => _paths.Check(Prior("job", Path.Combine(_data, "hop"), Path.Combine(_runs, "a"))));
        Directory.CreateSymbolicLink(Path.Combine(_data, "loop"), Path.Combine(_data, "loop"));
        Assert.Throws<InvalidOperationException>(() => _paths.Check(Prior("job", Path.Combine(_data, "loop"), Path.Combine(_runs, "b"))));
        Directory.CreateSymbolicLink(Path.Combine(_data, "same-faces"), Path.Combine(_data, "faces"));
        _paths.Check(Prior("job", Path.Combine(_data, "same-faces"), Path.Combine(_runs, "c")));
    }

    [Fact]
    public void A_data_folder_holding_a_link_out_of_the_roots_is_refused()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var faces = Path.Combine(_data, "faces");
        Directory.CreateDirectory(Path.Combine(faces, "nested"));
        File.CreateSymbolicLink(Path.Combine(faces, "nested", "x.png"), Path.Combine(_outside, "secret.png"));

        var error = Assert.Throws<InvalidOperationException>(() => _paths.Check(Prior("job", faces, Path.Combine(_runs, "out"))));

        Assert.Contains("holds a symbolic link that leads out", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_outside, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_runs, "out")));
    }

    [Fact]
    public void Without_roots_one_machines_paths_pass_as_given()
    {
        var output = Path.Combine(_outside, "run");

        new TrainingPaths(null, null).Check(Prior("job", _outside, output));

        Assert.False(Directory.Exists(output));
    }

    private string Expand(string path) => path.Replace("{runs}", _runs, StringComparison.Ordinal)
        .Replace("{data}", _data, StringComparison.Ordinal).Replace("{outside}", _outside, StringComparison.Ordinal);

    private static TrainingRequest Prior(string jobId, string data, string output) => new(jobId, 0, TrainingJobSpec.Prior(data, output));
}
