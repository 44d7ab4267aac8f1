using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets.Tfjs;

/// <summary>
/// Runs a tfjs graph model in TorchSharp, differentiably with respect to its input. Tensors keep TensorFlow's
/// NHWC layout between nodes so that every broadcast and reduction means what it meant in the graph;
/// convolutions and pools switch to NCHW around the libtorch call. Float constants are frozen parameters
/// (they move with <c>to(device)</c>); conv filters are stored already transposed to torch's layout.
/// Supported ops: the convolutional subset used by image classifiers (see <see cref="Evaluate"/>); any other
/// op fails with its name and node.
/// </summary>
internal sealed class TfjsGraphNet : nn.Module
{
    private readonly string _sourcePath;
    private readonly Dictionary<string, TfjsNode> _nodes;
    private readonly Dictionary<string, string> _parameterOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _integerConstants = new(StringComparer.Ordinal);

    public TfjsGraphNet(TfjsGraphModel model) : base(Path.GetFileNameWithoutExtension(model.SourcePath))
    {
        _sourcePath = model.SourcePath;
        _nodes = model.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var placeholders = model.Nodes.Where(n => n.Op == "Placeholder").Select(n => n.Name).ToArray();
        if (placeholders.Length != 1)
        {
            throw new NotSupportedException($"{_sourcePath}: graphs with {placeholders.Length} inputs are not supported (one image input expected).");
        }
        InputName = placeholders[0];

        var layouts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in model.Nodes)
        {
            if (node.Op is "Conv2D" or "_FusedConv2D")
            {
                layouts[node.Inputs[1]] = "conv";
            }
            else if (node.Op is "DepthwiseConv2dNative" or "FusedDepthwiseConv2dNative")
            {
                layouts[node.Inputs[1]] = "depthwise";
            }
        }
        foreach (var node in model.Nodes.Where(n => n.Op == "Const"))
        {
            var value = model.Weights.Get(node.Name);
            if (value.dtype == ScalarType.Int32)
            {
                _integerConstants[node.Name] = value.data<int>().Select(v => (long)v).ToArray();
                continue;
            }
            var stored = layouts.GetValueOrDefault(node.Name) switch
            {
                "conv" => TfOps.ConvFilter(value),
                "depthwise" => TfOps.DepthwiseFilter(value),
                _ => value.clone(),
            };
            var parameterName = $"c{_parameterOf.Count}_{new string(node.Name.Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '_').ToArray())}";
            var weight = new Parameter(stored, requires_grad: false);
            // The weight belongs to the net, not to whatever dispose scope the net happens to be built in.
            weight.DetachFromDisposeScope();
            register_parameter(parameterName, weight);
            _parameterOf[node.Name] = parameterName;
        }
        eval();
    }

    /// <summary>The graph's input node (an NHWC image batch).</summary>
    public string InputName { get; }

    /// <summary>Evaluates the named nodes (a ":0" suffix is accepted) for an NHWC input; only the nodes they depend on run.</summary>
    public Tensor[] Run(Tensor nhwc, params string[] outputs)
    {
        var parameters = named_parameters(recurse: false).ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [InputName] = nhwc };
        var results = outputs.Select(o => Value(TfjsGraphModel.StripOutputIndex(o), values, parameters)).ToArray();
        return results.Select(r => r.alias().MoveToOuterDisposeScope()).ToArray();
    }

    private Tensor Value(string name, Dictionary<string, Tensor> values, Dictionary<string, Tensor> parameters)
    {
        if (values.TryGetValue(name, out var known))
        {
            return known;
        }
        if (_parameterOf.TryGetValue(name, out var parameterName))
        {
            return parameters[parameterName];
        }
        if (_integerConstants.TryGetValue(name, out var integers))
        {
            // Shapes and axes are read from the constant itself; the tensor form serves ops that take them as data.
            var constant = tensor(integers, device: values[InputName].device);
            values[name] = constant;
            return constant;
        }
        if (!_nodes.TryGetValue(name, out var node))
        {
            throw new ArgumentException($"{_sourcePath}: the graph has no node '{name}'.");
        }
        // Graphs here are shallow chains (tens of nodes), so plain recursion is fine.
        var inputs = node.Inputs.Select(i => Value(i, values, parameters)).ToArray();
        var value = Evaluate(node, inputs);
        values[name] = value;
        return value;
    }

    private long[] Integers(TfjsNode node, int input) =>
        _integerConstants.TryGetValue(node.Inputs[input], out var v)
            ? v
            : throw new NotSupportedException($"{_sourcePath}: node '{node.Name}' ({node.Op}) needs a constant integer input '{node.Inputs[input]}'.");

    private Tensor Evaluate(TfjsNode node, Tensor[] x)
    {
        switch (node.Op)
        {
            case "Identity":
                return x[0].alias();
            case "Add" or "AddV2" or "BiasAdd":
                return x[0] + x[1];
            case "Sub":
                return x[0] - x[1];
            case "Mul":
                return x[0] * x[1];
            case "RealDiv" or "Div":
                return x[0] / x[1];
            case "Minimum":
                return minimum(x[0], x[1]);
            case "Maximum":
                return maximum(x[0], x[1]);
            case "Relu" or "Relu6" or "Elu" or "Sigmoid" or "Tanh" or "LeakyRelu":
                return Activation(node, node.Op, x[0], null);
            case "Prelu":
                return Activation(node, node.Op, x[0], x[1]);
            case "Softmax":
                return x[0].softmax(-1);
            case "Mean":
                return x[0].mean(Integers(node, 1), keepdim: node.Bool("keep_dims"));
            case "Reshape":
                return x[0].reshape(Integers(node, 1));
            case "Conv2D" or "_FusedConv2D":
                return Convolution(node, x, depthwise: false);
            case "DepthwiseConv2dNative" or "FusedDepthwiseConv2dNative":
                return Convolution(node, x, depthwise: true);
            case "MaxPool":
                return MaxPool(node, x[0]);
            case "MatMul" or "_FusedMatMul":
                return MatMul(node, x);
            default:
                throw new NotSupportedException($"{_sourcePath}: op '{node.Op}' (node '{node.Name}') is not supported by {nameof(TfjsGraphNet)}.");
        }
    }

    private Tensor Activation(TfjsNode node, string op, Tensor x, Tensor? alpha) => op switch
    {
        "Relu" => F.relu(x),
        "Relu6" => x.clamp(0, 6),
        "Elu" => F.elu(x, 1.0),
        "Sigmoid" => x.sigmoid(),
        "Tanh" => x.tanh(),
        "LeakyRelu" => F.leaky_relu(x, node.Float("alpha", node.Float("leakyrelu_alpha", 0.2f))),
        "Prelu" => F.relu(x) - alpha! * F.relu(-x),
        _ => throw new NotSupportedException($"{_sourcePath}: fused activation '{op}' (node '{node.Name}') is not supported."),
    };

    /// <summary>The fused ops after a conv or matmul: BiasAdd then at most one activation (PReLU's alpha is the next argument).</summary>
    private Tensor ApplyFused(TfjsNode node, Tensor y, Tensor[] args)
    {
        var fused = node.Strings("fused_ops");
        var next = 0;
        foreach (var op in fused)
        {
            if (op == "BiasAdd")
            {
                y = y + args[next++];
            }
            else
            {
                y = Activation(node, op, y, op == "Prelu" ? args[next++] : null);
            }
        }
        return y;
    }

    private Tensor Convolution(TfjsNode node, Tensor[] x, bool depthwise)
    {
        if (node.String("data_format") is { } format && format != "NHWC")
        {
            throw new NotSupportedException($"{_sourcePath}: node '{node.Name}' uses data format {format}; only NHWC is supported.");
        }
        var stride = Square(node, "strides");
        var dilation = Square(node, "dilations");
        var weight = x[1];
        var nchw = x[0].permute(0, 3, 1, 2);
        var groups = depthwise ? nchw.shape[1] : 1;
        Tensor y;
        switch (node.String("padding"))
        {
            case "SAME":
                y = TfOps.Conv2d(nchw, weight, null, stride, same: true, groups, dilation);
                break;
            case "VALID":
                y = TfOps.Conv2d(nchw, weight, null, stride, same: false, groups, dilation);
                break;
            case "EXPLICIT":
                var p = node.Ints("explicit_paddings")!;
                y = TfOps.Conv2d(F.pad(nchw, [p[4], p[5], p[2], p[3]]), weight, null, stride, same: false, groups, dilation);
                break;
            case var other:
                throw new NotSupportedException($"{_sourcePath}: node '{node.Name}' has padding '{other}'.");
        }
        return ApplyFused(node, y.permute(0, 2, 3, 1), x[2..]);
    }

    private Tensor MaxPool(TfjsNode node, Tensor x)
    {
        var kernel = Square(node, "ksize");
        var stride = Square(node, "strides");
        var nchw = x.permute(0, 3, 1, 2);
        var same = node.String("padding") switch
        {
            "SAME" => true,
            "VALID" => false,
            var other => throw new NotSupportedException($"{_sourcePath}: node '{node.Name}' has pooling padding '{other}'."),
        };
        return TfOps.MaxPool(nchw, kernel, stride, same).permute(0, 2, 3, 1);
    }

    private Tensor MatMul(TfjsNode node, Tensor[] x)
    {
        var a = node.Bool("transpose_a") ? x[0].transpose(-1, -2) : x[0];
        var b = node.Bool("transpose_b") ? x[1].transpose(-1, -2) : x[1];
        return ApplyFused(node, a.matmul(b), x[2..]);
    }

    /// <summary>An NHWC [1, h, w, 1] attribute with h = w (all the supported graphs use square strides and windows).</summary>
    private long Square(TfjsNode node, string attribute)
    {
        var v = node.Ints(attribute) ?? [1, 1, 1, 1];
        if (v.Length != 4 || v[0] != 1 || v[3] != 1 || v[1] != v[2])
        {
            throw new NotSupportedException($"{_sourcePath}: node '{node.Name}' has {attribute} [{string.Join(", ", v)}]; only square NHWC values are supported.");
        }
        return v[1];
    }
}
