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
    /// (see <see cref="EntityAggregator"/> for the rules). Texts longer than <see cref="MaxLength"/> tokens are truncated
    /// and say so (<see cref="EntityTagging.Truncated"/>). Throws <see cref="InputException"/> when the model has no
    /// token-classification head.
    /// </summary>
    public EntityTagging[] TagEntities(IReadOnlyList<string> texts, EntityAggregation aggregation = EntityAggregation.Simple)
    {
        ArgumentNullException.ThrowIfNull(texts);
        RequireTokenClassifier();
        var labels = TokenLabels();
        var (prefix, unk) = WordMarks();
        var result = new EntityTagging[texts.Count];
        var rows = TokenProbabilities(Inputs(texts), probabilities: true);
        for (int i = 0; i < rows.Length; i++)
        {
            var (encoding, probs) = rows[i];
            result[i] = new EntityTagging(texts[i], EntityAggregator.Aggregate(texts[i], encoding, probs, labels, aggregation, prefix, unk), encoding.Truncated);
        }
        return result;
    }

    /// <summary>Each input's encoding and its token classifier's logits (or softmax probabilities) [Length, labels].</summary>
    internal (Encoding Encoding, float[] Values)[] TokenProbabilities(IReadOnlyList<TextInput> inputs, bool probabilities)
    {
        var head = RequireTokenClassifier();
        int c = head.Out, h = Config.HiddenSize;
        var result = new (Encoding, float[])[inputs.Count];
        RunBatches(inputs, (batch, state, index) =>
        {
            var logits = TokenClassification.Logits(state.Hidden, batch.BatchSize * batch.SeqLen, head, _pool.Threads);
            for (int r = 0; r < batch.BatchSize; r++)
            {
                var encoding = batch.Rows[r];
                var values = logits.AsSpan(r * batch.SeqLen * c, encoding.Length * c).ToArray();
                if (probabilities)
                    for (int t = 0; t < encoding.Length; t++) Kernels.Softmax.MaskedRow(values.AsSpan(t * c, c), c);
                result[index[r]] = (encoding, values);
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
