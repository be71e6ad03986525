using NativeTransformer.Tasks;
using NativeTransformer.Tokenization;

namespace NativeTransformer;

/// <summary>Token classification (named-entity tagging) on a …ForTokenClassification checkpoint.</summary>
public sealed partial class TransformerModel
{
    /// <summary>True when the checkpoint is a token classifier (architectures …ForTokenClassification).</summary>
    public bool HasTokenClassifier => _heads.TokenClassifier != null;

    /// <summary>
    /// Entities of each text, as Hugging Face's token-classification pipeline with <paramref name="aggregation"/>
    /// (see <see cref="EntityAggregator"/> for the rules). A text longer than <see cref="MaxLength"/> tokens follows
    /// <see cref="LoadOptions.Overflow"/>: truncated and flagged (<see cref="EntityTagging.Truncated"/>), refused, or tagged
    /// window by window and merged as the pipeline does with <c>stride</c> (<see cref="WindowPooling.MergeOverlapping"/>;
    /// like the pipeline, not with aggregation None). Offsets always index the original text.
    /// Throws <see cref="InputException"/> when the model has no token-classification head.
    /// </summary>
    public EntityTagging[] TagEntities(IReadOnlyList<string> texts, EntityAggregation aggregation = EntityAggregation.Simple)
    {
        ArgumentNullException.ThrowIfNull(texts);
        RequireTokenClassifier();
        var labels = TokenLabels();
        var (prefix, unk) = WordMarks();
        var rows = Rows(Inputs(texts));
        var values = TokenValues(rows.Rows, probabilities: true);
        var result = new EntityTagging[texts.Count];
        for (int i = 0; i < result.Length; i++)
        {
            int windows = rows.Windows(i), first = rows.First[i];
            if (windows > 1 && aggregation == EntityAggregation.None)
                throw new InputException($"text {i} needs {windows} windows, and overlapping windows cannot be merged token by token: " +
                    "use an aggregation other than none with overflow 'window' (as Hugging Face's pipeline requires with stride)");
            var entities = new List<TaggedEntity>();
            for (int k = first; k < first + windows; k++)
                entities.AddRange(EntityAggregator.Aggregate(texts[i], rows.Rows[k], values[k], labels, aggregation, prefix, unk));
            if (windows > 1) entities = WindowPooling.MergeOverlapping(entities);
            result[i] = new EntityTagging(texts[i], entities.ToArray(), rows.Truncated[i]) { Windows = windows };
        }
        return result;
    }

    /// <summary>Each input's encoding (truncated to <see cref="MaxLength"/>) and its token classifier's logits (or softmax
    /// probabilities) [Length, labels].</summary>
    internal (Encoding Encoding, float[] Values)[] TokenProbabilities(IReadOnlyList<TextInput> inputs, bool probabilities)
    {
        var rows = Tokenize(inputs);
        var values = TokenValues(rows, probabilities);
        var result = new (Encoding, float[])[rows.Length];
        for (int i = 0; i < rows.Length; i++) result[i] = (rows[i], values[i]);
        return result;
    }

    /// <summary>The token classifier's logits (or softmax probabilities) [Length, labels] of each row.</summary>
    private float[][] TokenValues(Encoding[] rows, bool probabilities)
    {
        var head = RequireTokenClassifier();
        int c = head.Out;
        var result = new float[rows.Length][];
        RunRows(rows, (batch, state, index) =>
        {
            var logits = TokenClassification.Logits(state.Hidden, batch.BatchSize * batch.SeqLen, head, _pool.Threads);
            for (int r = 0; r < batch.BatchSize; r++)
            {
                var encoding = batch.Rows[r];
                var values = logits.AsSpan(r * batch.SeqLen * c, encoding.Length * c).ToArray();
                if (probabilities)
                    for (int t = 0; t < encoding.Length; t++) Kernels.Softmax.MaskedRow(values.AsSpan(t * c, c), c);
                result[index[r]] = values;
            }
        });
        return result;
    }

    /// <summary>id2label names by id ("LABEL_i" where config.json names none).</summary>
    internal string[] TokenLabels()
    {
        var labels = new string[NumLabels];
        for (int i = 0; i < labels.Length; i++) labels[i] = LabelName(i);
        return labels;
    }

    /// <summary>The tokenizer's continuation mark and unknown-token id (what word boundaries are read from).</summary>
    private (string? Prefix, int? UnkId) WordMarks() => Tokenizer is WordPieceTokenizer wp
        ? (wp.Options.ContinuingSubwordPrefix, wp.UnkId)
        : (null, Tokenizer.TryGetId("<unk>", out int u) ? u : Tokenizer.TryGetId("[UNK]", out u) ? u : null);

    private Models.LinearWeights RequireTokenClassifier() => _heads.TokenClassifier ?? throw new InputException(
        $"this {Config.Architecture} model has no token-classification head (config.json architectures must name a …ForTokenClassification)");
}
