using System.Text;
using System.Text.Json;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>
/// Large-scale comparison against an independent implementation: tests/fixtures/tokenizer/hf-js-vectors.jsonl,
/// produced by transformers.js (tools/tokenizer-vectors/gen.mjs) from models/bert-mini-sst2/tokenizer.json.
/// Lines where transformers.js itself departs from HF's Rust tokenizers are listed, each with its reason, in
/// hf-js-exclusions.json and are checked to still differ (so a stale exclusion is noticed).
/// </summary>
public class HfJsVectorTests
{
    private sealed record Vector(int I, string Kind, string Text, string? Pair, int[] Ids);

    private static List<Vector> LoadVectors()
    {
        var list = new List<Vector>();
        foreach (var line in File.ReadLines(TestPaths.Fixtures("tokenizer", "hf-js-vectors.jsonl")))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            list.Add(new Vector(r.GetProperty("i").GetInt32(), r.GetProperty("kind").GetString()!, r.GetProperty("text").GetString()!,
                r.GetProperty("pair").ValueKind == JsonValueKind.String ? r.GetProperty("pair").GetString() : null,
                r.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray()));
        }
        return list;
    }

    private static Dictionary<int, string> LoadExclusions()
    {
        var path = TestPaths.Fixtures("tokenizer", "hf-js-exclusions.json");
        var map = new Dictionary<int, string>();
        if (!File.Exists(path)) return map;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var e in doc.RootElement.GetProperty("excluded").EnumerateArray())
            map[e.GetProperty("i").GetInt32()] = e.GetProperty("reason").GetString()!;
        return map;
    }

    /// <summary>Applies the transformers.js behaviours named in <paramref name="reason"/> to the raw input.</summary>
    private static string EmulateJs(string text, string reason)
    {
        if (reason.Contains("supplementary-cjk"))
        {
            var sb = new StringBuilder(text.Length);
            foreach (var r in text.EnumerateRunes())
                sb.Append(r.Value >= 0x10000 && NativeTransformer.Tokenization.BertNormalizer.IsChineseChar(r.Value) ? "\uA000" : r.ToString());
            text = sb.ToString();
        }
        if (reason.Contains("unicode-punct"))
        {
            // transformers.js's \p{P} knows punctuation added after Unicode 8.0; .NET's data stands in for its engine's.
            var sb = new StringBuilder(text.Length);
            foreach (var r in text.EnumerateRunes())
                sb.Append(IsLaterPunctuation(r) ? " " + r + " " : r.ToString());
            text = sb.ToString();
        }
        if (reason.Contains("final-sigma"))
        {
            var chars = text.ToCharArray();
            for (int i = 0; i < chars.Length; i++)
            {
                if (chars[i] != '\u03A3') continue;
                int b = i - 1;
                while (b >= 0 && IsCaseIgnorable(chars[b])) b--;
                int a = i + 1;
                while (a < chars.Length && IsCaseIgnorable(chars[a])) a++;
                if (b >= 0 && IsCased(chars[b]) && !(a < chars.Length && IsCased(chars[a]))) chars[i] = '\u03C2';
            }
            text = new string(chars);
        }
        return text;
    }

    private static bool IsLaterPunctuation(Rune r) =>
        Rune.GetUnicodeCategory(r) is >= System.Globalization.UnicodeCategory.ConnectorPunctuation and <= System.Globalization.UnicodeCategory.OtherPunctuation
        && !NativeTransformer.Tokenization.BertPreTokenizer.IsPunctuation(r.Value);

    private static bool IsCased(char c) => char.IsUpper(c) || char.IsLower(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(char c) =>
        c is '\'' or '.' or ':' or '\u00B7' or '\u2019' or '\u2018' or '\u2024' or '\u00AD' ||
        char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.EnclosingMark
            or System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.ModifierLetter or System.Globalization.UnicodeCategory.ModifierSymbol;

    [Fact]
    public void ReproducesTransformersJsOnEveryNonExcludedLine()
    {
        var tok = TokenizerTestData.BertUncased;
        var vectors = LoadVectors();
        var excluded = LoadExclusions();
        Assert.True(vectors.Count >= 3000, $"only {vectors.Count} vectors");
        var failures = new StringBuilder();
        var dump = Environment.GetEnvironmentVariable("NT_TOKENIZER_MISMATCH_DUMP"); // optional: write every mismatch index
        var dumped = new List<int>();
        int failed = 0, compared = 0, staleExclusions = 0, unexplained = 0;
        foreach (var v in vectors)
        {
            var got = tok.Encode(v.Text, v.Pair).Ids;
            bool same = got.SequenceEqual(v.Ids);
            if (excluded.TryGetValue(v.I, out var reason))
            {
                if (same) { staleExclusions++; failures.AppendLine($"stale exclusion {v.I}: now matches"); }
                // Emulate the transformers.js quirk(s) named by the reason; then the ids must agree.
                var emulated = tok.Encode(EmulateJs(v.Text, reason), v.Pair == null ? null : EmulateJs(v.Pair, reason)).Ids;
                if (!emulated.SequenceEqual(v.Ids))
                {
                    unexplained++;
                    failures.AppendLine($"excluded #{v.I} ({reason}) still differs after emulation: {JsonSerializer.Serialize(v.Text)}\n" +
                                        $"   js:  [{string.Join(' ', v.Ids)}]\n   emu: [{string.Join(' ', emulated)}]");
                }
                continue;
            }
            compared++;
            if (!same)
            {
                failed++;
                dumped.Add(v.I);
                if (failed <= 40)
                    failures.AppendLine($"#{v.I} {v.Kind} {JsonSerializer.Serialize(v.Text)} {(v.Pair == null ? "" : JsonSerializer.Serialize(v.Pair))}\n" +
                                        $"   js:  [{string.Join(' ', v.Ids)}]\n   ours:[{string.Join(' ', got)}]\n" +
                                        $"   ours tokens: {string.Join(' ', tok.Encode(v.Text, v.Pair).Tokens)}");
            }
        }
        if (!string.IsNullOrEmpty(dump)) File.WriteAllLines(dump, dumped.Select(i => i.ToString()));
        Assert.True(failed == 0 && staleExclusions == 0 && unexplained == 0,
            $"{failed} of {compared} vectors differ ({excluded.Count} excluded, {staleExclusions} stale, {unexplained} unexplained):\n{failures}");
    }
}
