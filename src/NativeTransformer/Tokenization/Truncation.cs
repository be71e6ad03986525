namespace NativeTransformer.Tokenization;

/// <summary>How a text pair is cut down to the length budget.</summary>
public enum PairTruncationStrategy
{
    /// <summary>
    /// transformers' <c>longest_first</c> (Python <c>truncate_sequences</c>, slow BertTokenizer): remove one token
    /// at a time from the longer sequence; on a tie remove from the second. Default of <see cref="TokenizerOptions"/> (WordPieceTokenizer built directly).
    /// </summary>
    LongestFirst = 0,

    /// <summary>
    /// The Rust tokenizers (BertTokenizerFast) arithmetic: the shorter keeps min(len, budget/2 rounded down) and
    /// the longer the rest; with equal lengths the FIRST gets budget/2 and the second budget - budget/2. Differs
    /// from <see cref="LongestFirst"/> only when both end up cut and the budget is odd. Default of
    /// <see cref="TokenizerLoader"/>, since transformers loads fast tokenizers by default.
    /// </summary>
    LongestFirstRust = 1,
}

/// <summary>Truncation of one segment or a pair, with the special tokens already accounted for.</summary>
internal static class Truncation
{
    /// <summary>Returns the kept lengths for segments of lengths n1 and n2 (n2 = -1: no pair) under <paramref name="budget"/>.</summary>
    public static (int Keep1, int Keep2) Lengths(int n1, int n2, int budget, PairTruncationStrategy strategy)
    {
        if (n2 < 0) return (Math.Min(n1, budget), -1);
        if (n1 + n2 <= budget) return (n1, n2);
        if (strategy == PairTruncationStrategy.LongestFirstRust)
        {
            int a = n1, b = n2;
            bool swap = a > b;
            if (swap) (a, b) = (b, a);
            b = a > budget ? a : Math.Max(a, budget - a);
            if (a + b > budget)
            {
                a = budget / 2;
                b = a + budget % 2;
            }
            if (swap) (a, b) = (b, a);
            return (Math.Min(a, n1), Math.Min(b, n2));
        }
        // One at a time from the longer, tie -> second; closed form of that loop.
        int remove = n1 + n2 - budget;
        int diff = Math.Abs(n1 - n2);
        int first = Math.Min(diff, remove);      // taken from the longer to even them out
        int rest = remove - first;               // then alternately, second first
        int r1, r2;
        if (n1 > n2) { r1 = first + rest / 2; r2 = rest - rest / 2; }
        else { r1 = rest / 2; r2 = first + rest - rest / 2; }
        return (n1 - r1, n2 - r2);
    }
}
