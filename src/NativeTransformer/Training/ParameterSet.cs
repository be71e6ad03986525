using NativeTransformer.Weights;

namespace NativeTransformer.Training;

/// <summary>One trainable tensor: its checkpoint key, shape and float32 values (a private copy, so training never
/// writes into the memory-mapped checkpoint).</summary>
public sealed class Parameter(string name, long[] shape, float[] values)
{
    public string Name { get; } = name;
    public long[] Shape { get; } = shape;
    public float[] Values { get; } = values;

    /// <summary>PyTorch / HF Trainer's rule: no weight decay for biases and LayerNorm weights.</summary>
    public bool DecaysWeight => !Name.EndsWith(".bias", StringComparison.Ordinal) && !Name.Contains("LayerNorm", StringComparison.Ordinal);
}

/// <summary>Named parameters in checkpoint order, looked up by their Hugging Face key.</summary>
public sealed class ParameterSet
{
    private readonly List<Parameter> _list = [];
    private readonly Dictionary<string, Parameter> _byName = new(StringComparer.Ordinal);

    public IReadOnlyList<Parameter> All => _list;

    public void Add(Parameter p)
    {
        if (!_byName.TryAdd(p.Name, p)) throw new ArgumentException($"parameter '{p.Name}' is given twice");
        _list.Add(p);
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The parameter named <paramref name="name"/>; a missing key fails with the full key.</summary>
    public Parameter this[string name] =>
        _byName.TryGetValue(name, out var p) ? p : throw new WeightException(name, $"training: the checkpoint has no tensor '{name}'");

    /// <summary>Copies the float tensors named <paramref name="names"/> out of <paramref name="source"/>, checking shapes.</summary>
    public static ParameterSet Load(ITensorSource source, IEnumerable<(string Name, long[] Shape)> names)
    {
        var set = new ParameterSet();
        foreach (var (name, shape) in names)
        {
            if (!source.TryGetInfo(name, out var info)) throw new WeightException(name, $"training: the checkpoint has no tensor '{name}'");
            if (!info.Shape.SequenceEqual(shape))
                throw new WeightException(name, $"training: tensor '{name}' has shape {info.ShapeText}, expected [{string.Join(", ", shape)}]");
            set.Add(new Parameter(name, shape, source.GetFloat32(name).ToArray()));
        }
        return set;
    }

    /// <summary>Writes every parameter under its own name (F32) — e.g. the objective's hidden projection, which is saved apart
    /// from the student's checkpoint.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafetensorsWriter.Write(path, _list.Select(p => TensorToWrite.FromFloat32(p.Name, p.Shape, p.Values)).ToList(),
            metadata ?? new Dictionary<string, string>());

    /// <summary>Reads back a file written by <see cref="Save"/> into this set's parameters (same names and shapes, checked).</summary>
    public void LoadValuesFrom(string path)
    {
        using var file = SafetensorsFile.Open(path);
        foreach (var p in _list)
        {
            if (!file.TryGetInfo(p.Name, out var info)) throw new WeightException(p.Name, $"{path}: no tensor '{p.Name}'");
            if (!info.Shape.SequenceEqual(p.Shape))
                throw new WeightException(p.Name, $"{path}: tensor '{p.Name}' has shape {info.ShapeText}, expected [{string.Join(", ", p.Shape)}]");
            file.GetFloat32(p.Name).Span.CopyTo(p.Values);
        }
    }

    /// <summary>A zero tensor of the same shape for every parameter (the gradient accumulators).</summary>
    public ParameterSet ZerosLike()
    {
        var z = new ParameterSet();
        foreach (var p in _list) z.Add(new Parameter(p.Name, p.Shape, new float[p.Values.Length]));
        return z;
    }
}
