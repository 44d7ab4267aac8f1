using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Sair.Engine.IO;

/// <summary>Raw little-endian bytes ↔ CPU tensors (the storage format of .npy, safetensors and torch zip files).</summary>
internal static class TensorBytes
{
    public static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        _ => throw new NotSupportedException($"dtype {dtype} is not supported in weight files"),
    };

    /// <summary>A new CPU tensor holding a copy of <paramref name="data"/> (this machine is little-endian).</summary>
    public static Tensor FromLittleEndian(ReadOnlySpan<byte> data, ScalarType dtype, long[] shape)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("weight files are read on little-endian machines only");
        }
        var result = empty(shape, dtype);
        if (data.Length > 0)
        {
            data.CopyTo(result.bytes);
        }
        return result;
    }

    /// <summary>The tensor's elements as little-endian bytes in C order.</summary>
    public static byte[] ToLittleEndian(Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        return cpu.bytes.ToArray();
    }

    /// <summary>Reinterprets raw bytes as floats (little-endian), for readers that check values independently.</summary>
    public static float[] AsFloats(ReadOnlySpan<byte> data) => MemoryMarshal.Cast<byte, float>(data).ToArray();
}
