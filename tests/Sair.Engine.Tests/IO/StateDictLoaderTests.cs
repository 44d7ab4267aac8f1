using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.IO;

public sealed class StateDictLoaderTests
{
    [Fact]
    public void Entries_follow_pytorch_order_for_builtin_modules_with_buffers()
    {
        using var net = nn.Sequential(("0", nn.Linear(3, 4)), ("1", nn.BatchNorm1d(4)), ("2", nn.Linear(4, 2)));
        var keys = StateDictLoader.Entries(net).Select(e => e.Key).ToList();
        Assert.Equal(
            ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "2.weight", "2.bias"],
            keys);
        Assert.Equal(net.state_dict().Keys.Order(), keys.Order());
    }

    [Fact]
    public void Load_converts_dtype_and_reports_every_kind_of_mismatch_with_the_path()
    {
        using var net = nn.Sequential(("0", nn.Linear(3, 4)), ("1", nn.BatchNorm1d(4)));
        var source = StateDictLoader.Entries(net).Select(e => KeyValuePair.Create(e.Key, e.Value.to(ScalarType.Float64) + 1)).ToList();
        try
        {
            StateDictLoader.Load(net, source, "net.safetensors");
            Assert.All(StateDictLoader.Entries(net), e => Assert.True(e.Value.to(ScalarType.Float64).allclose(source.Single(s => s.Key == e.Key).Value)));
            Assert.Equal(ScalarType.Float32, StateDictLoader.Entries(net).First().Value.dtype);

            var broken = source.Where(s => s.Key != "1.running_var")
                .Select(s => s.Key == "0.bias" ? KeyValuePair.Create("0.bias", zeros(5)) : s)
                .Append(KeyValuePair.Create("2.weight", zeros(1)))
                .ToList();
            var e = Assert.Throws<CheckpointException>(() => StateDictLoader.Load(net, broken, "net.safetensors"));
            Assert.Equal("net.safetensors", e.FilePath);
            Assert.Contains("1 missing key (1.running_var)", e.Message);
            Assert.Contains("1 unexpected key (2.weight)", e.Message);
            Assert.Contains("1 shape mismatch (0.bias: expected (4), got (5))", e.Message);
        }
        finally
        {
            foreach (var s in source)
            {
                s.Value.Dispose();
            }
        }
    }
}
