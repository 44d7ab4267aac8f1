using System.Runtime.InteropServices;
using Sair.Engine.Runtime;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Runtime;

public sealed class NativeErrorsTests
{
    [Fact]
    public void A_real_libtorch_error_reaches_users_without_its_native_frames()
    {
        using var scope = NewDisposeScope();
        var histogram = zeros(1, 3, 64);
        var index = full(new long[] { 1, 3, 5 }, long.MinValue);

        var raw = Assert.Throws<ExternalException>(() => histogram.scatter_add(-1, index, ones(1, 3, 5)));
        var shown = NativeErrors.ForUser(raw);

        Assert.IsType<LibTorchException>(shown);
        Assert.Same(raw, shown.InnerException);
        Assert.StartsWith("index -9223372036854775808 is out of bounds for dimension 2 with size 64", shown.Message);
        Assert.DoesNotContain("frame #", shown.Message);
        Assert.DoesNotContain("c10::", shown.Message);
        Assert.DoesNotContain("Exception raised from", shown.Message);
        Assert.DoesNotContain('\n', shown.Message);
    }

    [Fact]
    public async Task Engine_calls_wrapped_for_users_rethrow_libtorch_errors_cleaned_and_others_unchanged()
    {
        var error = await Assert.ThrowsAsync<LibTorchException>(() => NativeErrors.ForUserAsync(() => Task.Run(() =>
        {
            using var scope = NewDisposeScope();
            return zeros(3).index_select(0, tensor(new long[] { 7 })).sum().item<float>();
        })));
        Assert.Contains("out of range", error.Message);
        Assert.DoesNotContain("frame #", error.Message);
        Assert.IsType<ExternalException>(error.InnerException);

        var canceled = new OperationCanceledException();
        Assert.Same(canceled, await Assert.ThrowsAsync<OperationCanceledException>(() => NativeErrors.ForUserAsync<int>(() => throw canceled)));
        Assert.Equal(3, await NativeErrors.ForUserAsync(() => Task.FromResult(3)));
    }

    [Fact]
    public void Backtraces_are_cut_at_exception_raised_from_and_frame_lines_dropped()
    {
        const string Message = "index 5 is out of bounds for dimension 0 with size 3\n" +
            "Exception raised from checkIndexTensorTypes at /pytorch/aten/src/ATen/native/IndexingUtils.h:42 (most recent call first):\n" +
            "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x9d (0x7f in libc10.so)\n" +
            "frame #1: at::native::index(...) + 0x1 (0x7f in libtorch_cpu.so)\n";

        Assert.True(NativeErrors.HasNativeFrames(Message));
        Assert.Equal("index 5 is out of bounds for dimension 0 with size 3", NativeErrors.Clean(Message));
        Assert.Equal("shape mismatch", NativeErrors.Clean("shape mismatch\nframe #0: c10::Error::Error() + 0x9d"));
        Assert.Equal("libtorch failed without a message.", NativeErrors.Clean("Exception raised from f at x.cpp:1\nframe #0: c10::Error"));
    }

    [Fact]
    public void Clean_messages_and_their_exceptions_pass_unchanged()
    {
        var clean = new InvalidOperationException("The job asks for an emotion this engine has no directions for.");

        Assert.False(NativeErrors.HasNativeFrames(clean.Message));
        Assert.Same(clean, NativeErrors.ForUser(clean));
    }
}
