using NativeTransformer.Tokenization;

namespace NativeTransformer.Evaluation;

/// <summary>One CoNLL sentence: its words and their gold IOB2 tags, and the 1-based line it came from.</summary>
public sealed record TaggedSentence(string[] Words, string[] Tags, int LineNumber);

/// <summary>Entity-level figures of a token classifier on CoNLL-style data (fractions, unrounded).</summary>
public sealed record NerEvalResult(int Sentences, int Words, int WordsScored, int GoldEntities, int PredictedEntities, int CorrectEntities,
    int CorrectWords)
{
    public double Precision => PredictedEntities == 0 ? 0 : (double)CorrectEntities / PredictedEntities;
    public double Recall => GoldEntities == 0 ? 0 : (double)CorrectEntities / GoldEntities;
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
    /// <summary>Word accuracy over the words that got a prediction (their first piece fit in the max length).</summary>
    public double WordAccuracy => WordsScored == 0 ? 0 : (double)CorrectWords / WordsScored;
}

/// <summary>
/// CoNLL-2003 NER evaluation (task <c>conll2003</c>). Data: one sentence per line, tokens separated by single spaces, each
/// token <c>word###TAG</c> with IOB2 tags (O, B-X, I-X). Each sentence's words are joined with single spaces and encoded as
/// one text, which for a tokenizer that splits at spaces gives the pieces of Hugging Face's is_split_into_words encoding;
/// a word's predicted label is the argmax at its first piece. Words with no piece (cut by the max length, or nothing left
/// after normalization) are predicted O and not counted in <see cref="NerEvalResult.WordsScored"/>. Entities are the
/// chunks of conlleval (<see cref="Chunks"/>); precision, recall and F1 are micro figures over exact (start, end, type)
/// matches.
/// </summary>
public static class ConllNer
{
    public const string TaskName = "conll2003";
    private const string Separator = "###";

    /// <summary>Reads and validates the data; a malformed token is an <see cref="InputException"/> naming its line.</summary>
    public static List<TaggedSentence> Read(IEnumerable<string> lines, string source)
    {
        var sentences = new List<TaggedSentence>();
        int n = 0;
        foreach (var raw in lines)
        {
            string line = ++n == 1 && raw.StartsWith('\uFEFF') ? raw[1..] : raw;
            if (line.Length == 0) continue; // blank lines separate nothing here; tolerated
            var tokens = line.Split(' ');
            var words = new string[tokens.Length];
            var tags = new string[tokens.Length];
            for (int i = 0; i < tokens.Length; i++)
            {
                int cut = tokens[i].LastIndexOf(Separator, StringComparison.Ordinal);
                if (cut <= 0)
                    throw new InputException($"{source}: line {n}: token {i + 1} '{Shorten(tokens[i])}' is not word{Separator}TAG");
                words[i] = tokens[i][..cut];
                tags[i] = tokens[i][(cut + Separator.Length)..];
                if (!(tags[i] == "O" || (tags[i].Length > 2 && (tags[i].StartsWith("B-", StringComparison.Ordinal) || tags[i].StartsWith("I-", StringComparison.Ordinal)))))
                    throw new InputException($"{source}: line {n}: tag '{Shorten(tags[i])}' of token {i + 1} is not O, B-TYPE or I-TYPE");
            }
            sentences.Add(new TaggedSentence(words, tags, n));
        }
        if (sentences.Count == 0) throw new InputException($"{source}: no sentences");
        return sentences;
    }

    /// <summary>Runs <paramref name="model"/> over the sentences in chunks and scores its entities.</summary>
    public static NerEvalResult Evaluate(TransformerModel model, IReadOnlyList<TaggedSentence> sentences, int chunkSize = Evaluator.DefaultChunkSize,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        if (!model.HasTokenClassifier)
            throw new InputException($"task {TaskName} needs a token-classification head and this {model.Config.Architecture} model has none");
        if (sentences.Count == 0) throw new InputException($"{TaskName}: no sentences to evaluate");
        var labels = model.TokenLabels();
        int words = 0, scored = 0, gold = 0, predicted = 0, correct = 0, correctWords = 0;
        var inputs = new List<TextInput>(chunkSize);
        for (int start = 0; start < sentences.Count; start += chunkSize)
        {
            int end = Math.Min(sentences.Count, start + chunkSize);
            inputs.Clear();
            for (int i = start; i < end; i++) inputs.Add(new TextInput(string.Join(' ', sentences[i].Words)));
            var rows = model.TokenProbabilities(inputs, probabilities: false);
            for (int i = start; i < end; i++)
            {
                var s = sentences[i];
                var predictedTags = WordLabels(s.Words, rows[i - start].Encoding, rows[i - start].Values, labels, out int withPiece);
                words += s.Words.Length;
                scored += withPiece;
                for (int w = 0; w < s.Words.Length; w++)
                    if (predictedTags[w] is { } p && p == s.Tags[w]) correctWords++;
                var g = Chunks(s.Tags);
                var p2 = Chunks(Array.ConvertAll(predictedTags, t => t ?? "O"));
                gold += g.Count; predicted += p2.Count;
                correct += g.Intersect(p2).Count();
            }
            progress?.Invoke(end, sentences.Count);
        }
        return new NerEvalResult(sentences.Count, words, scored, gold, predicted, correct, correctWords);
    }

    /// <summary>The label at each word's first piece (null for a word without one). Word w spans its characters in the
    /// space-joined text; a piece belongs to the word its start offset falls in.</summary>
    internal static string?[] WordLabels(string[] words, Encoding encoding, float[] logits, IReadOnlyList<string> labels, out int withPiece)
    {
        int c = labels.Count;
        var result = new string?[words.Length];
        withPiece = 0;
        int w = 0, wordStart = 0;
        for (int t = 0; t < encoding.Length; t++)
        {
            if (encoding.SequenceIds[t] < 0) continue;
            int at = encoding.Offsets[t].Start;
            while (w < words.Length && at >= wordStart + words[w].Length) { wordStart += words[w].Length + 1; w++; }
            if (w == words.Length) break;
            if (at < wordStart || result[w] is not null) continue; // a later piece of the same word
            result[w] = labels[Tasks.EntityAggregator.ArgMax(logits.AsSpan(t * c, c))];
            withPiece++;
        }
        return result;
    }

    /// <summary>
    /// Entity chunks (start, end exclusive, type) of an IOB tag sequence by conlleval's rules: a chunk starts at B-X, or at
    /// I-X after O or after a different type; it ends before O, B-, or a different type.
    /// </summary>
    public static HashSet<(int Start, int End, string Type)> Chunks(IReadOnlyList<string> tags)
    {
        var chunks = new HashSet<(int, int, string)>();
        int start = -1;
        string? type = null;
        for (int i = 0; i <= tags.Count; i++)
        {
            string tag = i < tags.Count ? tags[i] : "O";
            bool isO = tag == "O" || tag.Length < 2 || tag[1] != '-';
            string? t = isO ? null : tag[2..];
            bool begins = !isO && (tag[0] == 'B' || t != type);
            if (type is not null && (isO || begins))
            {
                chunks.Add((start, i, type));
                type = null;
            }
            if (begins) { start = i; type = t; }
        }
        return chunks;
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
