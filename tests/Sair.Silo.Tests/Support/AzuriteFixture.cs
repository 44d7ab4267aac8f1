
namespace Sair.Silo.Tests.Support;

/// <summary>
/// One Azurite (Azure Storage emulator) per test collection: blob, queue and table on free 127.0.0.1 ports, data in
/// memory (<see cref="AzuriteProcess"/>). Azurite comes from tools/azurite (bash setup.sh); without it the tests fail
/// rather than skip, so a missing emulator never passes for a green Azure path.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    public string ConnectionString => _azurite?.ConnectionString ?? "";

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
