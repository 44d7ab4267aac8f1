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
    public void Discovery_walks_up_to_the_folder_with_models_package_json()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "models"));
        File.WriteAllText(Path.Combine(_dir, "models", "package.json"), "{}");
        var deep = Directory.CreateDirectory(Path.Combine(_dir, "src", "bin", "Debug")).FullName;

        Assert.Equal(Path.Combine(_dir, "models", "node_modules"), FaceModelLocator.Discover(deep));
        Assert.Equal(Path.Combine(RepoPaths.Root, "models", "node_modules"), FaceModelLocator.Discover(AppContext.BaseDirectory));
    }

    [Fact]
    public void The_installed_models_are_found_from_the_test_binary()
    {
        var installed = InstalledFaceModels.Locator;
        Assert.True(File.Exists(installed.FaceApiManifest(FaceExpressionNet.ModelName)));
        Assert.True(File.Exists(installed.HumanGraphModel(FaceResNet.ModelName)));
    }
}
