using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NativeTransformer.Cli;

/// <summary>
/// A JSON string encoder that escapes only what JSON requires: '"', '\\' and control characters
/// below U+0020. Everything else (accents, CJK, emoji, '&lt;', '+') is written as raw UTF-8.
/// (The built-in UnsafeRelaxedJsonEscaping still escapes characters outside the BMP, such as emoji.)
/// No reflection: safe for trimming and Native AOT.
/// </summary>
internal sealed class MinimalJsonEncoder : JavaScriptEncoder
{
    public static readonly MinimalJsonEncoder Instance = new();

    public override int MaxOutputCharactersPerInputCharacter => 6; // \uXXXX

    public override bool WillEncode(int unicodeScalar) => unicodeScalar < 0x20 || unicodeScalar == '"' || unicodeScalar == '\\';

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (int i = 0; i < textLength; i++)
        {
            char c = text[i];
            if (c < 0x20 || c == '"' || c == '\\') return i;
            if (char.IsSurrogate(c))
            {
                // A well-formed pair passes through; a lone surrogate is handed to the encoder.
                if (char.IsHighSurrogate(c) && i + 1 < textLength && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
                return i;
            }
        }
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        string? s = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\b' => "\\b",
            '\f' => "\\f",
            _ => null,
        };
        if (s is null && unicodeScalar < 0x20) s = "\\u" + unicodeScalar.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        if (s is null)
        {
            // Not something we escape: write the scalar itself (1 or 2 UTF-16 units).
            var rune = new Rune(unicodeScalar);
            if (bufferLength < rune.Utf16SequenceLength) { numberOfCharactersWritten = 0; return false; }
            numberOfCharactersWritten = rune.EncodeToUtf16(new Span<char>(buffer, bufferLength));
            return true;
        }
        if (bufferLength < s.Length) { numberOfCharactersWritten = 0; return false; }
        for (int i = 0; i < s.Length; i++) buffer[i] = s[i];
        numberOfCharactersWritten = s.Length;
        return true;
    }
}

/// <summary>
/// Writes JSON Lines records to a <see cref="TextWriter"/>: each record is built with a
/// <see cref="Utf8JsonWriter"/> (no reflection), then written as one line ending in '\n'.
/// </summary>
internal sealed class JsonLineWriter
{
    public static readonly JsonWriterOptions Options = new() { Encoder = MinimalJsonEncoder.Instance, Indented = false };

    private readonly TextWriter _out;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    public JsonLineWriter(TextWriter output)
    {
        _out = output;
        _writer = new Utf8JsonWriter(_buffer, Options);
    }

    /// <summary>Starts a record; write its content with the returned writer, then call <see cref="End"/>.</summary>
    public Utf8JsonWriter Begin()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        return _writer;
    }

    public void End()
    {
        _writer.Flush();
        _out.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan));
        _out.Write('\n');
    }
}

internal static class JsonValues
{
    /// <summary>A float as its shortest round-trip form; NaN and ±Infinity (not JSON numbers) as null.</summary>
    public static void Float(Utf8JsonWriter w, float v)
    {
        if (float.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue();
    }

    public static void FloatArray(Utf8JsonWriter w, string name, ReadOnlySpan<float> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) Float(w, v);
        w.WriteEndArray();
    }

    public static void IntArray(Utf8JsonWriter w, string name, ReadOnlySpan<int> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    /// <summary>Writes "text" and, when present, "text_pair".</summary>
    public static void Input(Utf8JsonWriter w, TextInput input)
    {
        w.WriteString("text", input.Text);
        if (input.TextPair is not null) w.WriteString("text_pair", input.TextPair);
    }
}
