using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using static TorchSharp.torch;

namespace Sair.Engine.IO;

/// <summary>
/// Reads the pickles that <c>torch.save</c> writes (protocol 2, and the protocol 3–5 opcodes newer Pythons emit) without
/// running anything: class and function references stay names, a short whitelist of torch, collections and numpy
/// names is interpreted, and every other object becomes an inert <see cref="PickleObject"/>.
/// </summary>
internal sealed class Unpickler
{
    private static readonly object Mark = new();

    private readonly byte[] _data;
    private readonly string _path;
    private readonly string? _entry;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    /// <param name="data">The pickle bytes.</param>
    /// <param name="path">The file the bytes came from, for error messages.</param>
    /// <param name="persistentLoad">Resolves BINPERSID/PERSID ids; torch uses them for tensor storages.</param>
    /// <param name="entry">The archive entry holding the pickle, when it came from an archive.</param>
    public Unpickler(byte[] data, string path, Func<object?, object?> persistentLoad, string? entry = null)
    {
        _data = data;
        _path = path;
        _persistentLoad = persistentLoad;
        _entry = entry;
    }

    /// <summary>Every tensor created while loading, so that a caller (or a failed load) can dispose them.</summary>
    public List<Tensor> Tensors { get; } = [];

    public object? Load()
    {
        while (true)
        {
            if (_pos >= _data.Length)
            {
                throw Fail("the pickle ends before its STOP opcode (truncated data).");
            }
            var at = _pos;
            var op = _data[_pos++];
            switch (op)
            {
                case 0x80: // PROTO
                    var protocol = ReadByte();
                    if (protocol > 5)
                    {
                        throw Fail($"pickle protocol {protocol} is newer than the supported 0–5.");
                    }
                    break;
                case 0x95: // FRAME: a length prefix only, the frame's opcodes follow inline
                    Take(8);
                    break;
                case (byte)'.': // STOP
                    return Pop();

                case (byte)'(': // MARK
                    _marks.Push(_stack.Count);
                    break;
                case (byte)'0': // POP
                    Pop();
                    break;
                case (byte)'1': // POP_MARK
                    PopMark();
                    break;
                case (byte)'2': // DUP
                    Push(Peek());
                    break;

                case (byte)'N':
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'J': // BININT
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4)));
                    break;
                case (byte)'K': // BININT1
                    Push((long)ReadByte());
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2)));
                    break;
                case 0x8a: // LONG1
                    Push(ReadLong(ReadByte()));
                    break;
                case 0x8b: // LONG4
                    Push(ReadLong(ReadLength4()));
                    break;
                case (byte)'I': // INT (text; "01"/"00" are protocol 0's True/False)
                    Push(ReadLine() switch
                    {
                        "01" => true,
                        "00" => false,
                        var text => ParseLong(text),
                    });
                    break;
                case (byte)'L': // LONG (text)
                    Push(ParseLong(ReadLine().TrimEnd('L')));
                    break;
                case (byte)'G': // BINFLOAT: big-endian, unlike everything else in a pickle
                    Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8)));
                    break;
                case (byte)'F': // FLOAT (text)
                    Push(double.Parse(ReadLine(), NumberStyles.Float, CultureInfo.InvariantCulture));
                    break;

                case (byte)'X': // BINUNICODE
                    Push(Encoding.UTF8.GetString(Take(ReadLength4())));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(Encoding.UTF8.GetString(Take(ReadByte())));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(Encoding.UTF8.GetString(Take(ReadLength8())));
                    break;
                case (byte)'T': // BINSTRING (Python 2 str)
                    Push(Encoding.Latin1.GetString(Take(ReadLength4())));
                    break;
                case (byte)'U': // SHORT_BINSTRING
                    Push(Encoding.Latin1.GetString(Take(ReadByte())));
                    break;
                case (byte)'B': // BINBYTES
                    Push(Take(ReadLength4()).ToArray());
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(Take(ReadByte()).ToArray());
                    break;
                case 0x8e: // BINBYTES8
                case 0x96: // BYTEARRAY8
                    Push(Take(ReadLength8()).ToArray());
                    break;

                case (byte)')': // EMPTY_TUPLE
                    Push(Array.Empty<object?>());
                    break;
                case 0x85: // TUPLE1
                    Push(new[] { Pop() });
                    break;
                case 0x86: // TUPLE2
                {
                    var b = Pop();
                    var a = Pop();
                    Push(new[] { a, b });
                    break;
                }
                case 0x87: // TUPLE3
                {
                    var c = Pop();
                    var b = Pop();
                    var a = Pop();
                    Push(new[] { a, b, c });
                    break;
                }
                case (byte)'t': // TUPLE
                    Push(PopMark().ToArray());
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new List<object?>());
                    break;
                case (byte)'l': // LIST
                    Push(PopMark());
                    break;
                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict());
                    break;
                case (byte)'d': // DICT
                {
                    var dict = new PickleDict();
                    SetItems(dict, PopMark());
                    Push(dict);
                    break;
                }

                case (byte)'a': // APPEND
                {
                    var item = Pop();
                    Append(Peek(), [item]);
                    break;
                }
                case (byte)'e': // APPENDS
                {
                    var items = PopMark();
                    Append(Peek(), items);
                    break;
                }
                case (byte)'s': // SETITEM
                {
                    var value = Pop();
                    var key = Pop();
                    SetItems(Peek(), [key, value]);
                    break;
                }
                case (byte)'u': // SETITEMS
                {
                    var items = PopMark();
                    SetItems(Peek(), items);
                    break;
                }

                case (byte)'p': // PUT (text)
                    _memo[ParseLong(ReadLine())] = Peek();
                    break;
                case (byte)'q': // BINPUT
                    _memo[ReadByte()] = Peek();
                    break;
                case (byte)'r': // LONG_BINPUT
                    _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek();
                    break;
                case 0x94: // MEMOIZE
                    _memo[_memo.Count] = Peek();
                    break;
                case (byte)'g': // GET (text)
                    Push(MemoGet(ParseLong(ReadLine())));
                    break;
                case (byte)'h': // BINGET
                    Push(MemoGet(ReadByte()));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))));
                    break;

                case (byte)'c': // GLOBAL
                {
                    var module = ReadLine();
                    Push(Global(module, ReadLine()));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop() as string;
                    var module = Pop() as string;
                    if (module is null || name is null)
                    {
                        throw Fail($"STACK_GLOBAL at byte {at} needs a module and a name string.");
                    }
                    Push(Global(module, name));
                    break;
                }
                case (byte)'R': // REDUCE
                {
                    var args = Pop();
                    Push(Call(Pop(), AsTuple(args, "REDUCE", at)));
                    break;
                }
                case 0x81: // NEWOBJ
                {
                    var args = Pop();
                    Push(Call(Pop(), AsTuple(args, "NEWOBJ", at)));
                    break;
                }
                case 0x92: // NEWOBJ_EX: keyword arguments are kept as a trailing dict
                {
                    var kwargs = Pop();
                    var args = AsTuple(Pop(), "NEWOBJ_EX", at);
                    Push(Call(Pop(), kwargs is PickleDict { Count: > 0 } ? [.. args, kwargs] : args));
                    break;
                }
                case (byte)'b': // BUILD
                {
                    var state = Pop();
                    Build(Peek(), state, at);
                    break;
                }
                case (byte)'Q': // BINPERSID
                    Push(_persistentLoad(Pop()));
                    break;
                case (byte)'P': // PERSID (text)
                    Push(_persistentLoad(ReadLine()));
                    break;

                default:
                    throw Fail($"unsupported pickle opcode 0x{op:x2} ('{(op is >= 0x20 and < 0x7f ? (char)op : '?')}') at byte {at}; " +
                        "re-save the checkpoint with torch.save(obj, path) from a current torch, or convert it to safetensors.");
            }
        }
    }

    private static string Normalize(string module) => module switch
    {
        "__builtin__" => "builtins",
        "copy_reg" => "copyreg",
        _ => module,
    };

    private static PickleGlobal Global(string module, string name) => new(Normalize(module), name);

    /// <summary>Applies a whitelisted callable; anything else becomes an inert object naming what it was.</summary>
    private object? Call(object? callable, object?[] args)
    {
        if (callable is not PickleGlobal global)
        {
            throw Fail($"the pickle calls a {Describe(callable)}, which is not a class or function reference.");
        }
        switch (global.FullName)
        {
            case "collections.OrderedDict":
            case "builtins.dict":
            {
                var dict = new PickleDict(global.FullName);
                if (args is [IEnumerable<object?> pairs])
                {
                    foreach (var pair in pairs)
                    {
                        SetItems(dict, pair as object?[] ?? throw Fail("a dict was built from items that are not pairs."));
                    }
                }
                return dict;
            }
            case "builtins.list":
                return args is [IEnumerable<object?> items] ? items.ToList() : new List<object?>();
            case "builtins.tuple":
            case "torch.Size":
                return args is [IEnumerable<object?> elements] ? elements.ToArray() : Array.Empty<object?>();
            case "copyreg._reconstructor" when args is [PickleGlobal cls, ..]:
                return new PickleObject(cls.FullName, args[1..]);
            case "torch._utils._rebuild_tensor":
            case "torch._utils._rebuild_tensor_v2":
                return RebuildTensor(args);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                return args is [Tensor data, ..] ? data : throw Fail($"{global.FullName} expects a tensor, got {Describe(args.FirstOrDefault())}.");
            case "torch._tensor._rebuild_from_type_v2" when args is [var func, _, object?[] funcArgs, ..]:
                return Call(func, funcArgs);
            case "numpy.core.multiarray.scalar":
            case "numpy._core.multiarray.scalar":
                return NumpyScalar(args);
        }
        if (global.Module.StartsWith("torch", StringComparison.Ordinal) && global.Name.StartsWith("_rebuild", StringComparison.Ordinal))
        {
            throw Fail($"unsupported class {global.FullName} (quantized, sparse, nested or device-specific tensors cannot be read); " +
                "save dense CPU tensors (tensor.to_dense().cpu()) instead.");
        }
        return new PickleObject(global.FullName, args);
    }

    /// <summary>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata]):
    /// a view of the storage, as torch.load returns it, always on the CPU.</summary>
    private Tensor RebuildTensor(object?[] args)
    {
        if (args.Length < 4 || args[0] is not TorchStorage storage || args[1] is not long offset
            || args[2] is not object?[] size || args[3] is not object?[] stride || size.Length != stride.Length)
        {
            throw Fail($"malformed tensor record ({string.Join(", ", args.Take(4).Select(Describe))}).");
        }
        var sizes = size.Select(s => s as long? ?? throw Fail("a tensor size is not an integer.")).ToArray();
        var strides = stride.Select(s => s as long? ?? throw Fail("a tensor stride is not an integer.")).ToArray();
        if (offset < 0 || sizes.Any(s => s < 0) || strides.Any(s => s < 0))
        {
            throw Fail($"tensor of storage '{storage.Key}' has a negative offset, size or stride.");
        }
        var last = offset;
        for (var d = 0; d < sizes.Length; d++)
        {
            last += (sizes[d] - 1) * strides[d];
        }
        if (!sizes.Contains(0) && last >= storage.Numel)
        {
            throw Fail($"tensor of shape ({string.Join(", ", sizes)}) at offset {offset} reaches element {last} " +
                $"of storage '{storage.Key}', which holds only {storage.Numel}.");
        }
        var view = storage.Data.as_strided(sizes, strides, offset);
        Tensors.Add(view);
        return view;
    }

    /// <summary>numpy.core.multiarray.scalar(dtype, bytes): a numpy number such as a float64 <c>ada_aug_p</c>; kinds
    /// other than little-endian float, int and bool stay inert objects.</summary>
    private static object NumpyScalar(object?[] args)
    {
        if (args is not [PickleObject { ClassName: "numpy.dtype", Args: [string descr, ..] } dtype, byte[] raw]
            || (dtype.State is object?[] { Length: > 1 } state && state[1] is ">"))
        {
            return new PickleObject("numpy.core.multiarray.scalar", args);
        }
        return (descr, raw.Length) switch
        {
            ("f8", 8) => BinaryPrimitives.ReadDoubleLittleEndian(raw),
            ("f4", 4) => (double)BinaryPrimitives.ReadSingleLittleEndian(raw),
            ("i8", 8) => BinaryPrimitives.ReadInt64LittleEndian(raw),
            ("i4", 4) => (long)BinaryPrimitives.ReadInt32LittleEndian(raw),
            ("b1", 1) => raw[0] != 0,
            _ => new PickleObject("numpy.core.multiarray.scalar", args),
        };
    }

    private void Build(object? target, object? state, int at)
    {
        switch (target)
        {
            case PickleDict dict:
                // OrderedDict.__reduce__ hands instance attributes (a state_dict's _metadata) to BUILD.
                foreach (var part in state is object?[] { Length: 2 } pair ? pair : [state])
                {
                    if (part is PickleDict attributes)
                    {
                        foreach (var (key, value) in attributes)
                        {
                            dict.Attributes[key as string ?? throw Fail($"attribute name {Describe(key)} is not a string.")] = value;
                        }
                    }
                    else if (part is not null)
                    {
                        throw Fail($"BUILD at byte {at} gives a dict a {Describe(part)}.");
                    }
                }
                break;
            case PickleObject obj:
                obj.State = state;
                break;
            case Tensor:
                // Tensors carry their state in the rebuild call; an empty BUILD after it changes nothing.
                break;
            default:
                throw Fail($"BUILD at byte {at} targets a {Describe(target)}.");
        }
    }

    private void Append(object? target, List<object?> items)
    {
        switch (target)
        {
            case List<object?> list:
                list.AddRange(items);
                break;
            case PickleObject obj:
                obj.ListItems.AddRange(items);
                break;
            default:
                throw Fail($"APPEND targets a {Describe(target)}.");
        }
    }

    private void SetItems(object? target, IReadOnlyList<object?> keysAndValues)
    {
        var dict = target switch
        {
            PickleDict d => d,
            PickleObject o => o.DictItems,
            _ => throw Fail($"SETITEM targets a {Describe(target)}."),
        };
        if (keysAndValues.Count % 2 != 0)
        {
            throw Fail("SETITEMS has an odd number of keys and values.");
        }
        for (var i = 0; i < keysAndValues.Count; i += 2)
        {
            dict[keysAndValues[i] ?? throw Fail("a dict key is None, which is not supported.")] = keysAndValues[i + 1];
        }
    }

    private object?[] AsTuple(object? args, string opcode, int at) =>
        args as object?[] ?? throw Fail($"{opcode} at byte {at} expects an argument tuple, got {Describe(args)}.");

    private object? MemoGet(long index) =>
        _memo.TryGetValue(index, out var value) ? value : throw Fail($"memo entry {index} is read before it is written.");

    private void Push(object? value) => _stack.Add(value);

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw Fail("the pickle reads from an empty stack.");

    private object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    /// <summary>The items pushed since the last MARK, removed from the stack.</summary>
    private List<object?> PopMark()
    {
        if (_marks.Count == 0)
        {
            throw Fail("the pickle closes a MARK it never opened.");
        }
        var mark = _marks.Pop();
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private byte ReadByte() => Take(1)[0];

    private int ReadLength4()
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        return length <= int.MaxValue ? (int)length : throw Fail("a string or bytes value is larger than 2 GB.");
    }

    private int ReadLength8()
    {
        var length = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        return length <= int.MaxValue ? (int)length : throw Fail("a string or bytes value is larger than 2 GB.");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _pos)
        {
            throw Fail("the pickle ends in the middle of a value (truncated data).");
        }
        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    private string ReadLine()
    {
        var end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0)
        {
            throw Fail("the pickle ends in the middle of a text field (truncated data).");
        }
        var line = Encoding.UTF8.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return line;
    }

    /// <summary>LONG1/LONG4: little-endian two's complement of any width.</summary>
    private object ReadLong(int length)
    {
        var bytes = Take(length);
        if (length <= 8)
        {
            long value = 0;
            for (var i = length - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }
            var unused = 64 - 8 * length;
            return length == 0 ? 0L : (value << unused) >> unused;
        }
        return new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
    }

    private long ParseLong(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Fail($"'{text}' is not an integer.");

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"string '{s}'",
        long or double or bool => $"{value.GetType().Name} {value}",
        object?[] t => $"tuple of {t.Length}",
        _ => value.ToString() ?? value.GetType().Name,
    };

    private CheckpointException Fail(string problem) => new(_path, _entry is null ? problem : $"{_entry}: {problem}");
}
