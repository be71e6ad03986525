using System.Text;
using System.Text.RegularExpressions;

namespace NativeTransformer.Tokenization;

/// <summary>Several decoders applied in order (tokenizer.json "Sequence").</summary>
internal sealed class SequenceDecoder(IReadOnlyList<TokenDecoder> steps) : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        foreach (var step in steps) step.DecodeChain(tokens);
    }
}

/// <summary>
/// WordPiece: a token starting with the continuation prefix is glued to the previous one (prefix removed), any other
/// token gets a space before it; the first token is left as it is, prefix included, as HF does. With cleanup, HF's
/// <c>cleanup</c> replacements (" ." → "." etc.) run on each token with its leading space, not on the joined text:
/// "it ' s" stays spaced because no single token holds " ' ".
/// </summary>
internal sealed class WordPieceDecoder(string prefix, bool cleanup) : TokenDecoder
{
    private static readonly (string From, string To)[] Cleanups =
    [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ];

    public override void DecodeChain(List<string> tokens)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (i > 0) t = prefix.Length > 0 && t.StartsWith(prefix, StringComparison.Ordinal) ? t[prefix.Length..] : " " + t;
            if (cleanup) t = Cleanup(t);
            tokens[i] = t;
        }
    }

    internal static string Cleanup(string s)
    {
        foreach (var (from, to) in Cleanups)
            if (s.Contains(from, StringComparison.Ordinal)) s = s.Replace(from, to, StringComparison.Ordinal);
        return s;
    }
}

/// <summary>
/// GPT-2 byte level: every token made only of alphabet characters gives the bytes they stand for; any other token
/// (an added token such as "東京") gives its own UTF-8 bytes. All bytes are decoded at once, invalid sequences as
/// U+FFFD (one per maximal invalid subsequence, as Rust's from_utf8_lossy and .NET's UTF-8 decoder both do), so a
/// character split over several tokens comes out whole.
/// </summary>
internal sealed class ByteLevelDecoder : TokenDecoder
{
    private static readonly Dictionary<char, byte> CharToByte = BuildReverse();

    private static Dictionary<char, byte> BuildReverse()
    {
        var d = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) d[ByteLevel.ByteToChar[b]] = (byte)b;
        return d;
    }

    public override void DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var t in tokens)
        {
            bool all = true;
            foreach (char c in t) if (!CharToByte.ContainsKey(c)) { all = false; break; }
            if (all) foreach (char c in t) bytes.Add(CharToByte[c]);
            else bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(t));
        }
        tokens.Clear();
        tokens.Add(System.Text.Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
    }
}

/// <summary>
/// Metaspace (SentencePiece): the replacement character ("▁") becomes a space, except in the first token, where every
/// one of them is dropped (the prefix space the pre-tokenizer added) unless the prepend scheme is "never". HF drops all
/// of the first token's, not only a leading one; kept here for equal output.
/// </summary>
internal sealed class MetaspaceDecoder(char replacement, bool dropInFirst) : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (t.IndexOf(replacement) < 0) continue;
            tokens[i] = i == 0 && dropInFirst ? t.Replace(replacement.ToString(), "", StringComparison.Ordinal) : t.Replace(replacement, ' ');
        }
    }
}

/// <summary>Replace: a literal string or a regex replaced by <c>content</c> in each token.</summary>
/// <remarks>Regex patterns run on .NET's engine, not HF's Oniguruma: they agree on the simple patterns tokenizer files
/// use ("▁", " "), not on every construct.</remarks>
internal sealed class ReplaceDecoder(string? literal, Regex? regex, string content) : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        for (int i = 0; i < tokens.Count; i++)
            tokens[i] = literal != null ? tokens[i].Replace(literal, content, StringComparison.Ordinal) : regex!.Replace(tokens[i], content.Replace("$", "$$", StringComparison.Ordinal));
    }
}

/// <summary>
/// ByteFallback: runs of "&lt;0xHH&gt;" tokens become the text their bytes encode; a run that is not valid UTF-8 gives
/// one U+FFFD per byte (HF's rule; not from_utf8_lossy's per-subsequence one).
/// </summary>
internal sealed class ByteFallbackDecoder : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        var run = new List<byte>();
        foreach (var t in tokens)
        {
            if (TryByte(t, out byte b)) { run.Add(b); continue; }
            Flush(run, output);
            output.Add(t);
        }
        Flush(run, output);
        tokens.Clear();
        tokens.AddRange(output);
    }

    private static readonly UTF8Encoding Strict = new(false, true);

    private static void Flush(List<byte> run, List<string> output)
    {
        if (run.Count == 0) return;
        try { output.Add(Strict.GetString(run.ToArray())); }
        catch (DecoderFallbackException) { for (int i = 0; i < run.Count; i++) output.Add("\uFFFD"); }
        run.Clear();
    }

    private static bool TryByte(string t, out byte b)
    {
        b = 0;
        return t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>'
            && byte.TryParse(t.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out b);
    }
}

/// <summary>Fuse: all tokens become one.</summary>
internal sealed class FuseDecoder : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var joined = string.Concat(tokens);
        tokens.Clear();
        tokens.Add(joined);
    }
}

/// <summary>Strip: up to <c>start</c> leading and <c>stop</c> trailing <c>content</c> characters off each token.</summary>
internal sealed class StripDecoder(string content, int start, int stop) : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            int from = 0, to = t.Length;
            for (int k = 0; k < start && t.AsSpan(from).StartsWith(content, StringComparison.Ordinal); k++) from += content.Length;
            for (int k = 0; k < stop && to - content.Length >= from && t.AsSpan(from, to - from).EndsWith(content, StringComparison.Ordinal); k++) to -= content.Length;
            tokens[i] = t[from..to];
        }
    }
}

/// <summary>BPEDecoder: the end-of-word suffix ("&lt;/w&gt;") becomes a space, or nothing in the last token.</summary>
internal sealed class BpeSuffixDecoder(string suffix) : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        if (suffix.Length == 0) return;
        for (int i = 0; i < tokens.Count; i++)
            tokens[i] = tokens[i].Replace(suffix, i == tokens.Count - 1 ? "" : " ", StringComparison.Ordinal);
    }
}
