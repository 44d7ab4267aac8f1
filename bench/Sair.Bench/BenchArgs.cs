using System.Globalization;

namespace Sair.Bench;

/// <summary>--name value options shared by the benchmarks.</summary>
internal sealed class BenchArgs
{
    private readonly Dictionary<string, string> _values;

    private BenchArgs(Dictionary<string, string> values) => _values = values;

    public static BenchArgs Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected '--name value', got '{args[i]}'");
            }
            values[args[i][2..]] = args[++i];
        }
        return new BenchArgs(values);
    }

    public int[] Ints(string name, params int[] fallback) =>
        _values.TryGetValue(name, out var v)
            ? v.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray()
            : fallback;

    public int Int(string name, int fallback) => Ints(name, fallback)[0];

    public string String(string name, string fallback) => _values.GetValueOrDefault(name, fallback);
}
