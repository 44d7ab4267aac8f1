using System.Text;
using Sair.Grains.Ports;
using Sair.Grains.Hosting;
using Sair.Grains.Pools;

namespace Sair.Grains.Tests.Hosting;

/// <summary>A failure of a type the client cannot load reaches it as a <see cref="GridException"/> with its message.</summary>
public sealed class ClientFacingExceptionTests(SingleEngineGridFixture fixture) : IClassFixture<SingleEngineGridFixture>
{
    [Fact]
    public async Task A_backend_failure_reaches_the_client_as_its_message_and_the_contracts_own_errors_as_they_are()
    {
        var pool = fixture.Grid.Client.GetGrain<IReferencePoolGrain>("pool-backend-failure");

        var backend = await Assert.ThrowsAsync<GridException>(() => pool.EnrollAsync("ada", Encoding.UTF8.GetBytes("broken:1")));
        var noFace = await Assert.ThrowsAsync<FaceNotFoundException>(() => pool.EnrollAsync("ada", Encoding.UTF8.GetBytes("blank")));

        Assert.Equal("fake analyzer: the backend behind it failed", backend.Message);
        Assert.Equal(typeof(FakeBackendException).FullName, backend.OriginalType);
        Assert.Contains("no face", noFace.Message);
        Assert.Empty(await pool.ListAsync());
    }

    [Fact]
    public void Only_exceptions_a_client_cannot_load_are_translated_inner_ones_included()
    {
        Assert.Null(ClientFacingExceptionFilter.Translate(new ArgumentException("bad")));
        Assert.Null(ClientFacingExceptionFilter.Translate(new FaceNotFoundException("none")));
        Assert.Null(ClientFacingExceptionFilter.Translate(new AggregateException(new IOException("disk"))));
        Assert.NotNull(ClientFacingExceptionFilter.Translate(new FakeBackendException("storage")));
        var wrapped = ClientFacingExceptionFilter.Translate(new InvalidOperationException("outer", new FakeBackendException("inner")));
        Assert.Equal(("outer", typeof(InvalidOperationException).FullName), (wrapped!.Message, wrapped.OriginalType));
        Assert.NotNull(ClientFacingExceptionFilter.Translate(new AggregateException(new FakeBackendException("inner"))));
        Assert.False(ClientFacingExceptionFilter.FromClient(null));
        Assert.False(ClientFacingExceptionFilter.FromClient(GrainId.Create("referencepool", "family")));
    }
}
