using static TorchSharp.torch;

namespace Sair.Engine.Tests.IO;

internal static class TensorAssert
{
    /// <summary>Same shape, dtype and every element bit for bit.</summary>
    public static void Identical(Tensor expected, Tensor actual, string? what = null)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var want = expected.contiguous().bytes.ToArray();
        var got = actual.contiguous().bytes.ToArray();
        Assert.True(want.AsSpan().SequenceEqual(got), $"{what ?? "tensor"} differs");
    }
}
