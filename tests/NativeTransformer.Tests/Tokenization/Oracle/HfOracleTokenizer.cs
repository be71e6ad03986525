using System.Text.Json.Nodes;

namespace NativeTransformer.Tests.Tokenization.Oracle;

/// <summary>
/// Hugging Face's Rust tokenizers (through the native NuGet package Tokenizers.DotNet) as a reference for one
/// tokenizer.json. That package only offers <c>encode(text, add_special_tokens: true)</c> and applies the file's
/// truncation and padding, so this wrapper loads two temporary copies of the file, both with truncation and padding
/// removed: one as is (ids with special tokens) and one without its post-processor (ids without special tokens, which
/// is what HF's encode gives when no post-processor is set). Pairs are not offered by the package; <see cref="EncodePair"/>
/// assembles them from the no-special ids of each side and the pair template of the file's post-processor.
/// The package rejects strings with lone surrogates (it converts from UTF-16 strictly): callers must not pass them.
/// Its <c>Decode(ids)</c> is HF's <c>decode(ids, skip_special_tokens: true)</c> (it drops [CLS]/[SEP]); decoding with
/// special tokens kept uses a third copy of the file whose added tokens are all marked "special": false, since HF
/// decides what to skip from that flag alone.
/// </summary>
internal sealed class HfOracleTokenizer : IDisposable
{
    private readonly Tokenizers.DotNet.Tokenizer _withSpecial;
    private readonly Tokenizers.DotNet.Tokenizer _noSpecial;
    private readonly PairPiece[]? _pairTemplate;
    private readonly Lazy<Tokenizers.DotNet.Tokenizer> _noSpecialFlags;

    /// <summary>One element of the pair template: a special token's ids, or sequence A (0) / B (1).</summary>
    private readonly record struct PairPiece(int Sequence, int[] SpecialIds);

    public string PairTemplateDescription { get; }

    public HfOracleTokenizer(string tokenizerJson)
    {
        var root = JsonNode.Parse(File.ReadAllText(tokenizerJson))!.AsObject();
        root["truncation"] = null;
        root["padding"] = null;
        (_pairTemplate, PairTemplateDescription) = ReadPairTemplate(root["post_processor"]);
        _withSpecial = Load(root.ToJsonString());
        root["post_processor"] = null;
        _noSpecial = Load(root.ToJsonString());
        _noSpecialFlags = new(() =>
        {
            if (root["added_tokens"] is JsonArray added)
                foreach (var t in added) t!["special"] = false;
            return Load(root.ToJsonString());
        });
    }

    /// <summary>HF's <c>decode(ids, skip_special_tokens)</c>. Ids must be in the vocabulary (HF drops others).</summary>
    public string Decode(int[] ids, bool skipSpecialTokens)
    {
        var u = Array.ConvertAll(ids, v => checked((uint)v));
        return skipSpecialTokens ? _withSpecial.Decode(u) : _noSpecialFlags.Value.Decode(u);
    }

    private static Tokenizers.DotNet.Tokenizer Load(string json)
    {
        // The native side reads a path; the file is needed only while it loads.
        string path = Path.Combine(Path.GetTempPath(), $"nt-oracle-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try { return new Tokenizers.DotNet.Tokenizer(path); }
        finally { File.Delete(path); }
    }

    /// <summary>Ids of <paramref name="text"/> with the post-processor's special tokens.</summary>
    public int[] EncodeWithSpecial(string text) => ToInt(_withSpecial.Encode(text));

    /// <summary>Ids of <paramref name="text"/> without special tokens.</summary>
    public int[] EncodeNoSpecial(string text) => ToInt(_noSpecial.Encode(text));

    /// <summary>Ids of a pair with special tokens, or null when the file's post-processor is not one this wrapper
    /// can assemble pairs for (TemplateProcessing, BertProcessing, RobertaProcessing, or a Sequence holding one).</summary>
    public int[]? EncodePair(string text, string pair)
    {
        if (_pairTemplate is null) return null;
        var a = EncodeNoSpecial(text);
        var b = EncodeNoSpecial(pair);
        var ids = new List<int>(a.Length + b.Length + 4);
        foreach (var piece in _pairTemplate)
            ids.AddRange(piece.Sequence switch { 0 => a, 1 => b, _ => piece.SpecialIds });
        return ids.ToArray();
    }

    private static int[] ToInt(uint[] ids) => Array.ConvertAll(ids, v => checked((int)v));

    /// <summary>The pair layout of the post-processor, as HF's processors define it.</summary>
    private static (PairPiece[]?, string) ReadPairTemplate(JsonNode? processor)
    {
        if (processor is null) return ([Seq(0), Seq(1)], "no post-processor: A B");
        string? type = (string?)processor["type"];
        switch (type)
        {
            case "Sequence":
                // ByteLevel only adjusts offsets; the (single) processor that adds special tokens decides the layout.
                var adding = processor["processors"]!.AsArray().FirstOrDefault(p => (string?)p?["type"] != "ByteLevel");
                return adding is null ? ([Seq(0), Seq(1)], "Sequence of ByteLevel: A B") : ReadPairTemplate(adding);
            case "ByteLevel":
                return ([Seq(0), Seq(1)], "ByteLevel: A B");
            case "BertProcessing":
            {
                int[] cls = [(int)processor["cls"]![1]!], sep = [(int)processor["sep"]![1]!];
                return ([Special(cls), Seq(0), Special(sep), Seq(1), Special(sep)], "BertProcessing: cls A sep B sep");
            }
            case "RobertaProcessing":
            {
                int[] cls = [(int)processor["cls"]![1]!], sep = [(int)processor["sep"]![1]!];
                return ([Special(cls), Seq(0), Special(sep), Special(sep), Seq(1), Special(sep)], "RobertaProcessing: cls A sep sep B sep");
            }
            case "TemplateProcessing":
            {
                var specials = processor["special_tokens"]!.AsObject();
                var pieces = new List<PairPiece>();
                foreach (var item in processor["pair"]!.AsArray())
                {
                    if (item!["Sequence"] is { } s) pieces.Add(Seq((string?)s["id"] == "A" ? 0 : 1));
                    else
                    {
                        string id = (string)item["SpecialToken"]!["id"]!;
                        pieces.Add(Special(specials[id]!["ids"]!.AsArray().Select(v => (int)v!).ToArray()));
                    }
                }
                return (pieces.ToArray(), "TemplateProcessing pair template");
            }
            default:
                return (null, $"post-processor '{type}' (pairs not assembled)");
        }

        static PairPiece Seq(int which) => new(which, []);
        static PairPiece Special(int[] ids) => new(-1, ids);
    }

    public void Dispose()
    {
        _withSpecial.Dispose();
        _noSpecial.Dispose();
        if (_noSpecialFlags.IsValueCreated) _noSpecialFlags.Value.Dispose();
    }
}
