namespace NativeTransformer.Tokenization;

/// <summary>Tokenizer files are missing or malformed (empty vocab, bad tokenizer.json, unknown special token...).</summary>
public sealed class TokenizerException : NativeTransformerException
{
    public TokenizerException(string message) : base(message) { }
    public TokenizerException(string message, Exception inner) : base(message, inner) { }
}
