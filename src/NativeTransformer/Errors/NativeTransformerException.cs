namespace NativeTransformer;

/// <summary>
/// Base type of every error NativeTransformer raises for bad input: files, configs, tokenizer
/// data, user text, options. Callers (the CLI, the server) catch this one type to print a one-line
/// message instead of a stack trace; anything else escaping the library is a bug.
/// </summary>
public class NativeTransformerException : Exception
{
    public NativeTransformerException(string message) : base(message) { }
    public NativeTransformerException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>config.json is missing, malformed, or names an unsupported model_type / activation.</summary>
public sealed class ModelConfigException : NativeTransformerException
{
    public ModelConfigException(string message) : base(message) { }
    public ModelConfigException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A checkpoint tensor the model needs is missing, has the wrong shape, or the wrong dtype.
/// <see cref="Key"/> is the full checkpoint key (e.g. <c>bert.encoder.layer.3.attention.self.query.weight</c>).</summary>
public sealed class WeightException : NativeTransformerException
{
    public string Key { get; }
    public WeightException(string key, string message) : base(message) => Key = key;
    public WeightException(string key, string message, Exception inner) : base(message, inner) => Key = key;
}

/// <summary>Bad user input handed to the runtime or the CLI (malformed JSON, non-UTF-8 text, bad option values).</summary>
public sealed class InputException : NativeTransformerException
{
    public InputException(string message) : base(message) { }
    public InputException(string message, Exception inner) : base(message, inner) { }
    /// <summary>The position, in the list a call was given, of the input the error is about (e.g. one too long for the
    /// model), or null; lets a caller that read the inputs from lines name the line.</summary>
    public int? InputIndex { get; init; }
}
