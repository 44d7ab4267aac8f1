using System.Collections;

namespace Sair.Engine.IO;

// How Python values from a checkpoint's pickle appear in C#:
//   None → null, bool → bool, int → long (System.Numerics.BigInteger when wider than 64 bits), float → double,
//   str → string, bytes → byte[], tuple → object?[], list → List<object?>, dict and OrderedDict → PickleDict,
//   torch tensors → TorchSharp CPU tensors, a class or function reference → PickleGlobal, any other object → PickleObject.

/// <summary>A reference to a Python class or function by name (the pickle GLOBAL opcode); never resolved to code.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    /// <summary>The dotted name, e.g. <c>argparse.Namespace</c>.</summary>
    public string FullName => $"{Module}.{Name}";

    public override string ToString() => FullName;
}

/// <summary>A Python dict or <c>collections.OrderedDict</c>, in insertion order, plus any attributes set on it
/// (a state_dict carries <c>_metadata</c> that way).</summary>
internal sealed class PickleDict : OrderedDictionary<object, object?>
{
    public PickleDict(string className = "builtins.dict")
        : base(PickleKeyComparer.Instance)
    {
        ClassName = className;
    }

    /// <summary><c>builtins.dict</c> or <c>collections.OrderedDict</c>.</summary>
    public string ClassName { get; }

    /// <summary>Instance attributes restored by BUILD, e.g. a state_dict's <c>_metadata</c>.</summary>
    public Dictionary<string, object?> Attributes { get; } = [];
}

/// <summary>An instance of a class the reader does not know (argparse.Namespace, an optimizer's helper, a numpy array, …),
/// kept as inert data: which class, the arguments it was created with, and the state it was given.</summary>
internal sealed class PickleObject(string className, IReadOnlyList<object?> args)
{
    /// <summary>The dotted class (or factory function) name, e.g. <c>argparse.Namespace</c>.</summary>
    public string ClassName { get; } = className;

    /// <summary>The constructor or factory arguments as pickled.</summary>
    public IReadOnlyList<object?> Args { get; } = args;

    /// <summary>What BUILD gave it: usually a <see cref="PickleDict"/> of attributes, sometimes a tuple.</summary>
    public object? State { get; internal set; }

    /// <summary>Items appended to it (objects of list subclasses).</summary>
    public List<object?> ListItems { get; } = [];

    /// <summary>Items set on it (objects of dict subclasses).</summary>
    public PickleDict DictItems { get; } = new();

    /// <summary>An attribute from the BUILD state (<c>args.size</c> of an argparse.Namespace), or null when absent.</summary>
    public object? Attribute(string name)
    {
        var dict = State switch
        {
            PickleDict d => d,
            object?[] { Length: 2 } slots when slots[0] is PickleDict d => d,
            _ => null,
        };
        return dict is not null && dict.TryGetValue(name, out var value) ? value : null;
    }

    public override string ToString() => $"<{ClassName} object>";
}

/// <summary>Python's key equality for the key types a checkpoint holds: tuples compare by their items.</summary>
internal sealed class PickleKeyComparer : IEqualityComparer<object>
{
    public static readonly PickleKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => StructuralComparisons.StructuralEqualityComparer.Equals(x, y);

    public int GetHashCode(object obj) => StructuralComparisons.StructuralEqualityComparer.GetHashCode(obj);
}
