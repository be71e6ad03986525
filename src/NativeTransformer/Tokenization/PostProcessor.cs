namespace NativeTransformer.Tokenization;

/// <summary>Right padding of a batch (the templates are <see cref="TemplatePostProcessor"/>).</summary>
internal static class PostProcessor
{
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
