using System.Text;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// Random text that stresses Unicode handling: unpaired and reversed surrogates, long runs of combining marks,
/// zero-width and bidi controls, CJK (BMP and supplementary), emoji ZWJ sequences, flags and skin tones, control
/// characters and NUL, odd whitespace, case mappings that change length (İ, ß, ﬁ), code points from every plane
/// (private use, noncharacters, U+10FFFF), special tokens written literally, and over-long words.
/// </summary>
public static class UnicodeFuzz
{
    private static readonly string[] Words = ["the", "a", "movie", "good", "bad", "unbelievable", "don't", "café", "naïve", "hello", "world", "x", "12", "3.5"];
    private static readonly string[] Specials = ["[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[CL", "S]", "##", "##ing", "[", "]", "[[MASK]]", " [MASK] "];
    private static readonly string[] Emoji =
    [
        "\U0001F600", "\U0001F469\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466", "\U0001F1EB\U0001F1F7", "\U0001F44D\U0001F3FD",
        "\u2764\uFE0F", "1\uFE0F\u20E3", "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", "\u263A",
    ];
    private static readonly char[] ZeroWidth = ['\u200B', '\u200C', '\u200D', '\uFEFF', '\u2060', '\u00AD', '\u034F', '\u180E'];
    private static readonly char[] Bidi = ['\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u061C'];
    private static readonly char[] Spaces = [' ', '\t', '\n', '\r', '\u00A0', '\u1680', '\u2000', '\u2007', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000', '\u0085', '\u000B', '\u000C'];
    private static readonly string[] CaseTraps = ["\u0130", "\u0131", "\u00DF", "\uFB01", "\u01C4", "\u01C5", "\u03A3", "\u1E9E", "\u0149", "\u1F88", "\u2126", "\u212A", "Ω", "ǅ"];

    /// <summary>A random string of about <paramref name="maxLength"/> UTF-16 units or fewer (length itself is random, log-uniform).</summary>
    public static string RandomText(Random r, int maxLength)
    {
        int target = (int)Math.Pow(maxLength + 1, r.NextDouble()) - 1;
        var sb = new StringBuilder(target + 16);
        while (sb.Length < target) AppendSegment(sb, r, target - sb.Length);
        return sb.ToString();
    }

    private static void AppendSegment(StringBuilder sb, Random r, int room)
    {
        switch (r.Next(20))
        {
            case 0 or 1 or 2: sb.Append(Words[r.Next(Words.Length)]); break;
            case 3: sb.Append(Spaces[r.Next(Spaces.Length)]); break;
            case 4: sb.Append((char)r.Next(0x21, 0x7F)); break;
            case 5: // a letter followed by a run of combining marks, sometimes a very long one
            {
                sb.Append((char)r.Next('a', 'z' + 1));
                int n = r.Next(8) == 0 ? r.Next(Math.Max(1, Math.Min(room, 5000))) : 1 + r.Next(4);
                for (int i = 0; i < n; i++) sb.Append((char)(r.Next(3) == 0 ? r.Next(0x1DC0, 0x1E00) : r.Next(0x0300, 0x0370)));
                break;
            }
            case 6: sb.Append(ZeroWidth[r.Next(ZeroWidth.Length)]); break;
            case 7: sb.Append(Bidi[r.Next(Bidi.Length)]); break;
            case 8: sb.Append((char)r.Next(0x4E00, 0xA000)); break;                                  // CJK
            case 9: sb.Append(char.ConvertFromUtf32(r.Next(0x20000, 0x2A6E0))); break;               // CJK extension B
            case 10: sb.Append(Emoji[r.Next(Emoji.Length)]); break;
            case 11: sb.Append((char)(r.Next(2) == 0 ? r.Next(0, 0x20) : r.Next(0x7F, 0xA0))); break; // C0/C1 controls, NUL
            case 12: // broken surrogates: lone high, lone low, reversed pair
                switch (r.Next(3))
                {
                    case 0: sb.Append((char)r.Next(0xD800, 0xDC00)); break;
                    case 1: sb.Append((char)r.Next(0xDC00, 0xE000)); break;
                    default: sb.Append((char)r.Next(0xDC00, 0xE000)).Append((char)r.Next(0xD800, 0xDC00)); break;
                }
                break;
            case 13: // any scalar value of any plane
            {
                int plane = r.Next(17);
                int cp = (plane << 16) | r.Next(0x10000);
                if (cp is >= 0xD800 and < 0xE000) cp = 0xFFFD;
                sb.Append(char.ConvertFromUtf32(cp));
                break;
            }
            case 14: sb.Append(r.Next(4) switch { 0 => "\uFFFE", 1 => "\uFFFF", 2 => "\U0010FFFF", _ => "\uFFFD" }); break;
            case 15: sb.Append(Specials[r.Next(Specials.Length)]); break;
            case 16: sb.Append(CaseTraps[r.Next(CaseTraps.Length)]); break;
            case 17: sb.Append('x', Math.Min(room, 90 + r.Next(30))); break;                        // around max_input_chars_per_word
            case 18: sb.Append((char)r.Next(0x0590, 0x0800)); break;                                 // Hebrew, Arabic, Syriac...
            default: sb.Append((char)r.Next(0xA0, 0x2000)); break;                                   // Latin-1 .. general punctuation
        }
    }
}
