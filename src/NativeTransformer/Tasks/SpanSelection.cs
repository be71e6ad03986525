namespace NativeTransformer;

/// <summary>A candidate answer in one window: token indices (inclusive) and p_start·p_end.</summary>
internal readonly record struct ScoredSpan(int Start, int End, double Score);

/// <summary>
/// Picks answer spans from one window's start/end logits as the Hugging Face question-answering pipeline scores them:
/// every token that cannot hold an answer (question, special, padding) is masked out of a softmax taken over the
/// window, except the first token ([CLS]), which stays in it and whose p_start·p_end is the "no answer" score; a
/// candidate (s, e) has both ends in the context, s ≤ e and e − s + 1 ≤ maxAnswerLen, and scores p_start[s]·p_end[e].
/// </summary>
internal static class SpanSelection
{
    /// <summary>The <c>topK</c> best candidates, best first. <c>inContext</c> says per token whether it may be part of an
    /// answer (the context's tokens); <c>clsIndex</c> is the token that stays in the softmax without being a candidate
    /// (−1: none); <c>nullScore</c> is its p_start·p_end (0 without one).</summary>
    public static ScoredSpan[] Select(ReadOnlySpan<float> startLogits, ReadOnlySpan<float> endLogits, ReadOnlySpan<bool> inContext,
        int clsIndex, int topK, int maxAnswerLen, out double nullScore)
    {
        int n = inContext.Length;
        if (startLogits.Length < n || endLogits.Length < n) throw new ArgumentException("fewer logits than tokens");
        var pStart = Probabilities(startLogits[..n], inContext, clsIndex);
        var pEnd = Probabilities(endLogits[..n], inContext, clsIndex);
        nullScore = clsIndex >= 0 ? pStart[clsIndex] * pEnd[clsIndex] : 0;

        // A bounded list of the best candidates, best first; ties keep the earlier (start, end).
        var best = new List<ScoredSpan>(topK + 1);
        for (int s = 0; s < n; s++)
        {
            if (!inContext[s] || s == clsIndex) continue;
            for (int e = s; e < n && e - s < maxAnswerLen; e++)
            {
                if (!inContext[e]) continue;
                double score = pStart[s] * pEnd[e];
                if (best.Count == topK && score <= best[^1].Score) continue;
                int at = best.Count;
                while (at > 0 && best[at - 1].Score < score) at--;
                best.Insert(at, new ScoredSpan(s, e, score));
                if (best.Count > topK) best.RemoveAt(topK);
            }
        }
        return best.ToArray();
    }

    /// <summary>Softmax over the allowed tokens (context and <paramref name="clsIndex"/>); the others get probability 0
    /// (the pipeline sets them to −10000 first, which leaves them exp(−10000 − max) = 0).</summary>
    private static double[] Probabilities(ReadOnlySpan<float> logits, ReadOnlySpan<bool> allowed, int clsIndex)
    {
        var p = new double[logits.Length];
        double max = double.NegativeInfinity;
        for (int i = 0; i < p.Length; i++)
            if (allowed[i] || i == clsIndex) max = Math.Max(max, logits[i]);
        if (double.IsNegativeInfinity(max)) return p;
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
            if (allowed[i] || i == clsIndex) sum += p[i] = Math.Exp(logits[i] - max);
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }
}
