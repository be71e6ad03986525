using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>
/// The middle of a SentencePiece tokenizer (XLM-R, ALBERT, T5, CamemBERT...): tokenizer.json's normalizer steps
/// (Precompiled charsmap, Replace, Unicode forms...), pre-tokenizer steps (WhitespaceSplit, Metaspace) and the Unigram
/// model; or the same built from a sentencepiece .model file.
/// </summary>
internal sealed class SentencePieceSegmentModel : ISegmentModel
{
    private readonly List<INormalizerStep> _normalizers;
    private readonly List<IPreTokenizerStep> _preTokenizers;
    private readonly UnigramModel _model;

    [ThreadStatic] private static UnigramModel.Scratch? t_scratch;
    [ThreadStatic] private static PreTokenizerSteps.Buffers? t_buffers;
    [ThreadStatic] private static NormalizedText? t_original;

    public SentencePieceSegmentModel(List<INormalizerStep> normalizers, List<IPreTokenizerStep> preTokenizers, UnigramModel model)
    {
        _normalizers = normalizers;
        _preTokenizers = preTokenizers;
        _model = model;
    }

    public UnigramModel Model => _model;
    public int VocabSize => _model.Count;
    public string IdToToken(int id) => _model.IdToToken(id);
    public bool TryGetId(string token, out int id) => _model.TryGetId(token, out id);

    /// <summary>Reads "normalizer", "pre_tokenizer" and a Unigram "model" from a parsed tokenizer.json.</summary>
    public static SentencePieceSegmentModel FromTokenizerJson(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new TokenizerException($"{path}: the top level must be a JSON object");
        JsonElement? Get(string key) => root.TryGetProperty(key, out var e) ? e : null;
        var normalizers = NormalizerSteps.Read(Get("normalizer"), path);
        var pre = PreTokenizerSteps.Read(Get("pre_tokenizer"), path);
        if (Get("model") is not { ValueKind: JsonValueKind.Object } model) throw new TokenizerException($"{path}: 'model' must be an object");
        return new SentencePieceSegmentModel(normalizers, pre, ReadUnigram(model, path));
    }

    /// <summary>Parses a tokenizer.json Unigram "model" object.</summary>
    public static UnigramModel ReadUnigram(JsonElement model, string path)
    {
        string w = path + " model";
        if (model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() != "Unigram")
            throw new TokenizerException($"{w}: type '{t.GetString()}' is not Unigram");
        var vocabNode = SpmJson.Array(model, "vocab", w);
        var vocab = new List<(string, double)>(vocabNode.GetArrayLength());
        int index = 0;
        foreach (var entry in vocabNode.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2
                || entry[0].ValueKind != JsonValueKind.String || entry[1].ValueKind != JsonValueKind.Number
                || !entry[1].TryGetDouble(out var score))
                throw new TokenizerException($"{w}: vocab entry {index} must be a [piece, score] pair of a string and a number");
            vocab.Add((entry[0].GetString()!, score));
            index++;
        }
        if (!model.TryGetProperty("unk_id", out var u) || u.ValueKind != JsonValueKind.Number || !u.TryGetInt32(out int unkId))
            throw new TokenizerException($"{w}: 'unk_id' must be an integer (a Unigram model without an unknown token is not supported)");
        return new UnigramModel(vocab, unkId, SpmJson.Bool(model, "byte_fallback", false, w), w);
    }

    public void Tokenize(string text, int start, int end, TokenList output)
    {
        if (end <= start) return;
        // The original text goes into a per-thread buffer: normalizer steps return new texts (or this one unchanged),
        // and the pre-tokenizer copies into its own buffers, so nothing keeps it past this call.
        var norm = NormalizerSteps.FromOriginal(text, start, end, t_original ??= new NormalizedText(256));
        foreach (var step in _normalizers) norm = step.Apply(norm);
        var scratch = t_scratch ??= new UnigramModel.Scratch();
        if (_preTokenizers.Count == 0) { _model.Tokenize(norm, 0, norm.Count, output, scratch); return; }
        var words = PreTokenizerSteps.Run(_preTokenizers, norm, t_buffers ??= new PreTokenizerSteps.Buffers(), out var pieces);
        foreach (var (from, to) in pieces) _model.Tokenize(words, from, to, output, scratch);
    }
}
