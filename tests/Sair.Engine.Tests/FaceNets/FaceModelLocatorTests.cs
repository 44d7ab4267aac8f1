using Sair.Engine.FaceNets;

namespace Sair.Engine.Tests.FaceNets;

public sealed class FaceModelLocatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sair-models-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_missing_model_names_the_file_and_the_install_command()
    {
        var locator = new FaceModelLocator(_dir);

        var e = Assert.Throws<FileNotFoundException>(() => FaceRecognitionNet.Load(locator));

        var expected = Path.Combine(_dir, "@vladmandic", "face-api", "model", "face_recognition_model-weights_manifest.json");
        Assert.Equal(expected, e.FileName);
        Assert.Contains(expected, e.Message);
        Assert.Contains("bash models/install.sh", e.Message);
        Assert.Contains(FaceModelLocator.EnvironmentVariable, e.Message);
        Assert.Throws<FileNotFoundException>(() => FaceResNet.Load(locator));
    }

    [Fact]
    public void A_folder_holding_node_modules_is_accepted_as_the_models_directory()
    {
        var nodeModules = Directory.CreateDirectory(Path.Combine(_dir, "node_modules")).FullName;
        Assert.Equal(nodeModules, new FaceModelLocator(_dir).ModelsDirectory);
        Assert.Equal(nodeModules, new FaceModelLocator(nodeModules).ModelsDirectory);
    }

    [Fact]
    public void The_default_is_the_environment_then_the_folder_beside_the_application_then_the_built_repository()
    {
        var app = Directory.CreateDirectory(Path.Combine(_dir, "app")).FullName;
        var repo = Path.Combine(_dir, "repo", "models", "node_modules");

        Assert.Equal("/env/models", FaceModelLocator.Choose("/env/models", app, repo));
        Assert.Equal(repo, FaceModelLocator.Choose(null, app, repo));
        Assert.Equal(Path.Combine(app, "models", "node_modules"), FaceModelLocator.Choose(" ", app, null));
        Directory.CreateDirectory(Path.Combine(app, "models", "node_modules"));
        Assert.Equal(Path.Combine(app, "models", "node_modules"), FaceModelLocator.Choose(null, app, repo));
        // This build stamped the repository it was built from.
        Assert.Equal(Path.Combine(RepoPaths.Root, "models", "node_modules"), Path.GetFullPath(FaceModelLocator.BuiltRepositoryModels!));
    }

    [Fact]
    public void The_installed_models_are_found_from_the_test_binary()
    {
        var installed = InstalledFaceModels.Locator;
        Assert.True(File.Exists(installed.FaceApiManifest(FaceExpressionNet.ModelName)));
        Assert.True(File.Exists(installed.HumanGraphModel(FaceResNet.ModelName)));
    }
}
