using System.Text.RegularExpressions;
using Sair.Silo.Hosting;

namespace Sair.Silo.Tests.Kubernetes;

/// <summary>Static checks of the container recipes (no container engine needed): runtime, user, ports, entry point.</summary>
public sealed class DockerfileTests
{
    private static string Read(string name) => File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "docker", name));

    /// <summary>The instructions after the last FROM: what the shipped image is made of.</summary>
    private static string FinalStage(string dockerfile) => dockerfile[dockerfile.LastIndexOf("\nFROM ", StringComparison.Ordinal)..];

    [Theory]
    [InlineData("silo.Dockerfile")]
    [InlineData("engine.Dockerfile")]
    [InlineData("client.Dockerfile")]
    public void Images_are_multi_stage_and_run_as_a_non_root_user(string name)
    {
        var dockerfile = Read(name);
        Assert.True(Regex.Matches(dockerfile, @"^FROM ", RegexOptions.Multiline).Count >= 2, $"{name} is not multi-stage");
        var user = Regex.Match(FinalStage(dockerfile), @"^USER\s+(\S+)", RegexOptions.Multiline);
        Assert.True(user.Success, $"{name}: the final stage sets no USER");
        Assert.DoesNotMatch(@"^(root|0)$", user.Groups[1].Value);
    }

    [Fact]
    public void The_engine_image_carries_CUDA_libtorch_and_the_CPU_silo_image_the_CPU_one()
    {
        Assert.Contains("-p:SairTorchRuntime=cuda", Read("engine.Dockerfile"));
        Assert.Contains("-p:SairTorchRuntime=cpu", Read("silo.Dockerfile"));
        Assert.DoesNotContain("SairTorchRuntime", Read("client.Dockerfile"));
    }

    [Theory]
    [InlineData("silo.Dockerfile")]
    [InlineData("engine.Dockerfile")]
    public void Silo_images_expose_the_ports_the_silo_listens_on(string name)
    {
        var exposed = Regex.Match(FinalStage(Read(name)), @"^EXPOSE\s+(.+)$", RegexOptions.Multiline).Groups[1].Value
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet();
        var defaults = new SairSiloOptions();
        Assert.Contains(SairHealthOptions.DefaultPort, exposed);
        Assert.Contains(defaults.SiloPort, exposed);
        Assert.Contains(defaults.GatewayPort, exposed);
    }

    [Fact]
    public void The_client_image_runs_the_sair_assembly_without_the_engine()
    {
        var client = Read("client.Dockerfile");
        Assert.Contains("\"sair.dll\"", client);
        Assert.DoesNotContain("Sair.Engine", client);
        Assert.DoesNotContain("Sair.Silo", client);
    }
}
