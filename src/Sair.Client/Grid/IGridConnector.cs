using System.Net;
using Sair.Grains.Ports;

namespace Sair.Client.Grid;

/// <summary>
/// Opens the grid for one command. The CLI uses <see cref="OrleansGridConnector"/>; tests inject one over an
/// in-process test cluster, so every command runs unchanged against fakes.
/// </summary>
public interface IGridConnector
{
    Task<IGridConnection> ConnectAsync(GridTarget target, CancellationToken cancellationToken);
}

/// <summary>A connected grid: grains to call, and its image store as the client reaches it (through the grid).</summary>
public interface IGridConnection : IAsyncDisposable
{
    IGrainFactory Grains { get; }

    /// <summary>The grid's image store, reached through its gateway (<see cref="GridImageStore"/>).</summary>
    IImageStore Images { get; }

    /// <summary>Where the grid is, for the user ("local silo (pid 123)", "cluster 10.0.0.5:30000").</summary>
    string Description { get; }
}

/// <summary>Which grid to use.</summary>
/// <param name="Gateways">Gateways of an existing cluster; null for the local silo the client starts itself.</param>
/// <param name="Engine">Engine files for a local silo the client starts; null keeps the silo's own configuration.</param>
/// <param name="ClusterId">Orleans cluster id of the cluster's silos; null for <see cref="OrleansGridConnector.ClusterId"/>.</param>
public sealed record GridTarget(IReadOnlyList<IPEndPoint>? Gateways, EngineFiles? Engine, string? ClusterId = null);

/// <summary>Engine files a locally started silo is launched with.</summary>
/// <param name="Generator">StyleGAN2 generator checkpoint.</param>
/// <param name="IdentityNet">Identity (ArcFace) network weights.</param>
public sealed record EngineFiles(string? Generator, string? IdentityNet)
{
    public bool IsEmpty => Generator is null && IdentityNet is null;
}

/// <summary>A connection that is already open (tests, or a host that owns the cluster client).</summary>
public sealed class FixedGridConnector(IGrainFactory grains, string description = "test cluster") : IGridConnector
{
    public Task<IGridConnection> ConnectAsync(GridTarget target, CancellationToken cancellationToken) =>
        Task.FromResult<IGridConnection>(new Borrowed(grains, description));

    private sealed record Borrowed(IGrainFactory Grains, string Description) : IGridConnection
    {
        public IImageStore Images { get; } = new GridImageStore(Grains);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
