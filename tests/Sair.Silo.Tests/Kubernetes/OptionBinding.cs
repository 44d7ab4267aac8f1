using System.ComponentModel;
using System.Reflection;
using Sair.Grains;

namespace Sair.Silo.Tests.Kubernetes;

/// <summary>
/// Maps an environment variable (Sair__Section__Property) to the options property it configures, by reflecting over
/// every options type of the silo, the grains and their contract (a public const string Section naming its configuration
/// section).
/// A section may be read by several types (Sair:Engine configures both the grid's engine worker and the engine's models).
/// </summary>
internal static class OptionBinding
{
    private static readonly IReadOnlyDictionary<string, Type[]> TypesBySection =
        new[] { typeof(SairSiloOptions).Assembly, typeof(GridStorage).Assembly, typeof(Sair.Grains.Jobs.EngineWorkerOptions).Assembly }
            .SelectMany(a => a.GetTypes())
            .Select(t => (Type: t, Section: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(t => t.Section is { IsLiteral: true } && t.Section.FieldType == typeof(string))
            .GroupBy(t => (string)t.Section!.GetRawConstantValue()!, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Select(t => t.Type).ToArray(), StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyCollection<string> Sections => [.. TypesBySection.Keys];

    /// <summary>The property the variable binds to, or an explanation of why it binds to nothing.</summary>
    public static (PropertyInfo? Property, string Problem) Resolve(string variable)
    {
        var parts = variable.Split("__");
        if (parts.Length != 3)
        {
            return (null, $"{variable}: expected Sair__<Section>__<Property>");
        }

        var section = $"{parts[0]}:{parts[1]}";
        if (!TypesBySection.TryGetValue(section, out var types))
        {
            return (null, $"{variable}: no options type for section '{section}' (known: {string.Join(", ", Sections)})");
        }

        var property = types
            .Select(t => t.GetProperty(parts[2], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase))
            .FirstOrDefault(p => p is { CanWrite: true });
        return property is not null
            ? (property, "")
            : (null, $"{variable}: {string.Join(" / ", types.Select(t => t.Name))} has no settable property '{parts[2]}'");
    }

    /// <summary>Whether the configuration binder can turn <paramref name="value"/> into the property's type.</summary>
    public static bool Converts(PropertyInfo property, string value)
    {
        var target = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        try
        {
            TypeDescriptor.GetConverter(target).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception exception) when (exception is FormatException or NotSupportedException or ArgumentException || exception.InnerException is FormatException)
        {
            return false;
        }
    }
}
