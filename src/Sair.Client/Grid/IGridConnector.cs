using System.Net;
using Sair.Grains.Engine;

namespace Sair.Client.Grid;

/// <summary>
/// Opens the grid for one command. The CLI uses <see cref="OrleansGridConnector"/>; tests inject one over an
/// in-process test cluster, so every command runs unchanged against fakes.
/// </summary>
public interface IGridConnector
{
    Task<IGridConnection> ConnectAsync(GridTarget target, CancellationToken cancellationToken);
}

/// <summary>A connected grid: grains to call and the image store the grains read photos from.</summary>
public interface IGridConnection : IAsyncDisposable
{
    IGrainFactory Grains { get; }

    IImageStore Images { get; }

    /// <summary>Where the grid is, for the user ("local silo (pid 123)", "cluster 10.0.0.5:30000").</summary>
    string Description { get; }
}

/// <summary>Which grid to use.</summary>
/// <param name="Gateways">Gateways of an existing cluster; null for the local silo the client starts itself.</param>
/// <param name="ImageRoot">The image-store folder the cluster's silos share (required with <paramref name="Gateways"/>).</param>
/// <param name="Engine">Engine files for a local silo the client starts; null keeps the silo's own configuration.</param>
public sealed record GridTarget(IReadOnlyList<IPEndPoint>? Gateways, string? ImageRoot, EngineFiles? Engine);

/// <summary>Engine files a locally started silo is launched with.</summary>
/// <param name="Generator">StyleGAN2 generator checkpoint.</param>
/// <param name="IdentityNet">Identity (ArcFace) network weights.</param>
public sealed record EngineFiles(string? Generator, string? IdentityNet)
{
    public bool IsEmpty => Generator is null && IdentityNet is null;
}

/// <summary>A connection that is already open (tests, or a host that owns the cluster client).</summary>
public sealed class FixedGridConnector(IGrainFactory grains, IImageStore images, string description = "test cluster") : IGridConnector
{
    public Task<IGridConnection> ConnectAsync(GridTarget target, CancellationToken cancellationToken) =>
        Task.FromResult<IGridConnection>(new Borrowed(grains, images, description));

    private sealed record Borrowed(IGrainFactory Grains, IImageStore Images, string Description) : IGridConnection
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
