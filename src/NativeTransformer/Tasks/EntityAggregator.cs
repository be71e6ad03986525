using NativeTransformer.Tokenization;

namespace NativeTransformer.Tasks;

/// <summary>
/// Turns one text's per-token label probabilities into entities with the rules of Hugging Face's
/// TokenClassificationPipeline (aggregate / aggregate_words / group_entities), re-implemented here:
/// <list type="number">
/// <item>Special tokens are skipped. A token continues the previous word when the tokenizer marks continuation pieces
/// (WordPiece <c>##</c>) and it carries the mark; for tokenizers without such a mark, when neither the character before
/// it nor its first character is a space. An unknown-token piece always starts a word.</item>
/// <item>First / Average / Max give every word one label: the first piece's argmax, the argmax of the pieces' mean
/// probabilities, or the argmax of the piece with the highest probability; the score is that label's probability.</item>
/// <item>Grouping (all strategies but None): an item joins the open group when its tag (label without B-/I-) equals the
/// group's last tag and it is not a B- label; a label without a prefix counts as I-. The group's label is the tag, its
/// score the mean of its items' scores.</item>
/// <item>Results labelled O are dropped. Offsets are UTF-16 indices into the original text and the word is the original
/// substring (Hugging Face's pipeline instead decodes the tokens, which lowercases for uncased vocabularies).</item>
/// </list>
/// </summary>
internal static class EntityAggregator
{
    private readonly record struct Item(int LabelId, float Score, int Start, int End, int Index);

    /// <summary>The entities of <paramref name="text"/>: <paramref name="probabilities"/> are softmax probabilities
    /// [encoding.Length, labels] (row t for token t); <paramref name="continuationPrefix"/> is the tokenizer's continuation
    /// mark (WordPiece "##"), or null when it has none.</summary>
    public static TaggedEntity[] Aggregate(string text, Encoding encoding, ReadOnlySpan<float> probabilities, IReadOnlyList<string> labels,
        EntityAggregation strategy, string? continuationPrefix, int? unkId)
    {
        int c = labels.Count;
        // Per token: (position, is-subword) of the non-special tokens.
        var tokens = new List<(int Index, bool Subword)>(encoding.Length);
        for (int t = 0; t < encoding.Length; t++)
        {
            if (encoding.SequenceIds[t] < 0) continue;
            var (start, _) = encoding.Offsets[t];
            bool subword = continuationPrefix is { Length: > 0 }
                ? encoding.Tokens[t].StartsWith(continuationPrefix, StringComparison.Ordinal)
                : start > 0 && text[start - 1] != ' ' && (start >= text.Length || text[start] != ' ');
            if (encoding.Ids[t] == unkId) subword = false;
            tokens.Add((t, subword));
        }

        var items = new List<Item>(tokens.Count);
        if (strategy is EntityAggregation.None or EntityAggregation.Simple)
        {
            foreach (var (t, _) in tokens)
            {
                var row = probabilities.Slice(t * c, c);
                int best = ArgMax(row);
                items.Add(new Item(best, row[best], encoding.Offsets[t].Start, encoding.Offsets[t].End, t));
            }
        }
        else
        {
            for (int i = 0; i < tokens.Count;)
            {
                int j = i + 1;
                while (j < tokens.Count && tokens[j].Subword) j++;
                items.Add(Word(tokens, i, j, encoding, probabilities, c, strategy));
                i = j;
            }
        }

        var result = new List<TaggedEntity>();
        if (strategy == EntityAggregation.None)
        {
            foreach (var it in items)
                if (labels[it.LabelId] != "O")
                    result.Add(new TaggedEntity(labels[it.LabelId], it.Score, Slice(text, it.Start, it.End), it.Start, it.End, it.Index));
            return [.. result];
        }

        for (int i = 0; i < items.Count;)
        {
            string tag = Tag(labels[items[i].LabelId], out _);
            double sum = items[i].Score;
            int j = i + 1;
            while (j < items.Count && Tag(labels[items[j].LabelId], out bool begins) == Tag(labels[items[j - 1].LabelId], out _) && !begins)
                sum += items[j++].Score;
            if (tag != "O")
            {
                int start = items[i].Start, end = items[j - 1].End;
                result.Add(new TaggedEntity(tag, (float)(sum / (j - i)), Slice(text, start, end), start, end));
            }
            i = j;
        }
        return [.. result];
    }

    /// <summary>One word's label from its pieces [from, to) of <paramref name="tokens"/>.</summary>
    private static Item Word(List<(int Index, bool Subword)> tokens, int from, int to, Encoding encoding, ReadOnlySpan<float> probs, int c,
        EntityAggregation strategy)
    {
        int first = tokens[from].Index, last = tokens[to - 1].Index;
        int start = encoding.Offsets[first].Start, end = encoding.Offsets[last].End;
        switch (strategy)
        {
            case EntityAggregation.First:
            {
                var row = probs.Slice(first * c, c);
                int best = ArgMax(row);
                return new Item(best, row[best], start, end, first);
            }
            case EntityAggregation.Max:
            {
                // The piece whose top probability is highest (the first such piece on a tie), and its argmax.
                int bestPiece = first, bestLabel = ArgMax(probs.Slice(first * c, c));
                for (int k = from + 1; k < to; k++)
                {
                    int t = tokens[k].Index, label = ArgMax(probs.Slice(t * c, c));
                    if (probs[t * c + label] > probs[bestPiece * c + bestLabel]) (bestPiece, bestLabel) = (t, label);
                }
                return new Item(bestLabel, probs[bestPiece * c + bestLabel], start, end, first);
            }
            default:
            {
                var mean = new float[c];
                for (int l = 0; l < c; l++)
                {
                    double s = 0;
                    for (int k = from; k < to; k++) s += probs[tokens[k].Index * c + l];
                    mean[l] = (float)(s / (to - from));
                }
                int best = ArgMax(mean);
                return new Item(best, mean[best], start, end, first);
            }
        }
    }

    /// <summary>The entity type of a label: "B-PER" → "PER" (begins = true), "I-PER" → "PER", anything else itself (as an I-).</summary>
    private static string Tag(string label, out bool begins)
    {
        begins = label.StartsWith("B-", StringComparison.Ordinal);
        return begins || label.StartsWith("I-", StringComparison.Ordinal) ? label[2..] : label;
    }

    /// <summary>Index of the largest value, the first on a tie (as numpy's argmax).</summary>
    internal static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    private static string Slice(string text, int start, int end) => start >= 0 && end <= text.Length && start <= end ? text[start..end] : "";
}
