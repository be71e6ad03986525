namespace NativeTransformer.Tokenization;

/// <summary>The BERT template (<c>[CLS] $A [SEP] $B:1 [SEP]:1</c>) and right padding of a batch.</summary>
internal static class PostProcessor
{
    public static Encoding Build(WordPieceTokenizer tok, TokenList a, TokenList? b, bool truncated)
    {
        int n = a.Count + (b?.Count ?? 0) + (b == null ? 2 : 3);
        var ids = new int[n];
        var types = new int[n];
        var tokens = new string[n];
        var offsets = new (int, int)[n];
        var seq = new int[n];
        int p = 0;
        void Special(int id, string token, int type)
        {
            ids[p] = id; types[p] = type; tokens[p] = token; offsets[p] = (0, 0); seq[p] = -1; p++;
        }
        void Segment(TokenList s, int type)
        {
            for (int i = 0; i < s.Count; i++)
            {
                ids[p] = s.Ids[i]; types[p] = type; tokens[p] = s.Tokens[i]; offsets[p] = s.Offsets[i]; seq[p] = type; p++;
            }
        }
        var o = tok.Options;
        Special(tok.ClsId, o.ClsToken, 0);
        Segment(a, 0);
        Special(tok.SepId, o.SepToken, 0);
        if (b != null)
        {
            Segment(b, 1);
            Special(tok.SepId, o.SepToken, 1);
        }
        return new Encoding(ids, types, tokens, offsets, seq, truncated);
    }

    public static EncodedBatch Pad(Encoding[] rows, int padId)
    {
        int seqLen = 0;
        foreach (var r in rows) seqLen = Math.Max(seqLen, r.Length);
        int batch = rows.Length;
        var ids = new int[batch * seqLen];
        var types = new int[batch * seqLen];
        var mask = new int[batch * seqLen];
        var lengths = new int[batch];
        for (int i = 0; i < batch; i++)
        {
            var r = rows[i];
            int o = i * seqLen;
            r.Ids.CopyTo(ids, o);
            r.TypeIds.CopyTo(types, o);
            mask.AsSpan(o, r.Length).Fill(1);
            ids.AsSpan(o + r.Length, seqLen - r.Length).Fill(padId);
            lengths[i] = r.Length;
        }
        return new EncodedBatch(batch, seqLen, ids, types, mask, lengths, rows);
    }
}
