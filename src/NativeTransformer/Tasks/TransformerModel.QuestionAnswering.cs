using NativeTransformer.Kernels;
using NativeTransformer.Models;
using NativeTransformer.Tokenization;

namespace NativeTransformer;

/// <summary>Extractive question answering (…ForQuestionAnswering checkpoints).</summary>
public sealed partial class TransformerModel
{
    /// <summary>The pipeline's window length when the caller sets none.</summary>
    public const int DefaultQaMaxSeqLen = 384;

    /// <summary>True when the checkpoint has a question-answering head (qa_outputs).</summary>
    public bool HasQuestionAnswering => _heads.QaOutputs != null;

    /// <summary>
    /// The best answers to <paramref name="question"/> found in <paramref name="context"/>, best first, with the Hugging Face
    /// question-answering pipeline's rules: the input is [CLS] question [SEP] context [SEP]; a context longer than one window
    /// is split into windows of <see cref="QuestionAnsweringOptions.MaxSeqLen"/> tokens overlapping by DocStride context tokens,
    /// each scored alone (<see cref="SpanSelection"/>), and the answers of all windows are ranked together. An answer covers
    /// whole words (a WordPiece span that starts or ends inside a word is widened to it) and is the substring of the context
    /// between its character offsets.
    /// </summary>
    /// <exception cref="InputException">Empty question or context, a context without tokens, or bad options.</exception>
    public QuestionAnswer[] AnswerQuestion(string question, string context, QuestionAnsweringOptions? options = null)
    {
        var qa = _heads.QaOutputs ?? throw new NativeTransformerException(
            $"this {Config.Architecture} checkpoint has no question-answering head (qa_outputs); question answering needs e.g. BertForQuestionAnswering");
        options ??= new QuestionAnsweringOptions();
        if (question is null || question.Length == 0) throw new InputException("question is empty");
        if (context is null || context.Length == 0) throw new InputException("context is empty");
        var (maxSeqLen, stride) = QaWindowing(options);

        var full = Tokenizer.Encode(question, context, null);
        full = OverflowWindows.KeepFirst(full, segment: 0, options.MaxQuestionLen);
        if (Array.IndexOf(full.SequenceIds, 1) < 0) throw new InputException("context has no tokens (only whitespace or characters the tokenizer drops)");
        var windows = OverflowWindows.Split(full, segment: 1, maxSeqLen, stride);

        var logits = new (float[] Start, float[] End)[windows.Length];
        for (int first = 0; first < windows.Length; first += _options.BatchSize)
        {
            CallCancellation.BeforeBatch();
            var rows = windows.AsSpan(first, Math.Min(_options.BatchSize, windows.Length - first)).ToArray();
            var batch = PostProcessor.Pad(rows, Tokenizer.PadId);
            var (start, end) = RunQa(batch);
            for (int r = 0; r < rows.Length; r++)
                logits[first + r] = (start.AsSpan(r * batch.SeqLen, rows[r].Length).ToArray(), end.AsSpan(r * batch.SeqLen, rows[r].Length).ToArray());
        }
        return RankAnswers(context, windows, logits, options, ContinuationTest(Tokenizer));
    }

    /// <summary>
    /// The answers of all windows ranked together: each window's best spans (<see cref="SpanSelection"/>) mapped to
    /// characters of <paramref name="context"/>, plus "no answer" when asked (scored by the smallest null score of any
    /// window), sorted by score (stable: equal scores keep window order, as the pipeline's sort does) and cut to top-k.
    /// </summary>
    internal static QuestionAnswer[] RankAnswers(string context, Encoding[] windows, IReadOnlyList<(float[] Start, float[] End)> logits,
        QuestionAnsweringOptions options, Func<string, bool>? isContinuation)
    {
        var answers = new List<QuestionAnswer>();
        double nullScore = double.MaxValue;
        for (int k = 0; k < windows.Length; k++)
        {
            var w = windows[k];
            var inContext = new bool[w.Length];
            for (int i = 0; i < w.Length; i++) inContext[i] = w.SequenceIds[i] == 1;
            // The pipeline keeps [CLS] in the softmax (its score is "no answer"); it is the first token of these templates.
            int cls = w.SequenceIds[0] == -1 ? 0 : -1;
            var spans = SpanSelection.Select(logits[k].Start, logits[k].End, inContext, cls, options.TopK, options.MaxAnswerLen, out double windowNull);
            nullScore = Math.Min(nullScore, windowNull);
            foreach (var span in spans)
            {
                var (s, e) = isContinuation is null ? (span.Start, span.End) : WidenToWords(w, span.Start, span.End, isContinuation);
                int charStart = w.Offsets[s].Start, charEnd = w.Offsets[e].End;
                answers.Add(new QuestionAnswer(context[charStart..charEnd], (float)span.Score, charStart, charEnd));
            }
        }
        if (options.HandleImpossibleAnswer) answers.Add(new QuestionAnswer("", (float)nullScore, 0, 0));
        return answers.OrderByDescending(a => a.Score).Take(options.TopK).ToArray();
    }

    /// <summary>The window length and stride for <paramref name="o"/>, checked.</summary>
    private (int MaxSeqLen, int Stride) QaWindowing(QuestionAnsweringOptions o)
    {
        if (o.TopK < 1) throw new InputException($"top-k must be at least 1, got {o.TopK}");
        if (o.MaxAnswerLen < 1) throw new InputException($"max answer length must be at least 1, got {o.MaxAnswerLen}");
        if (o.MaxQuestionLen < 1) throw new InputException($"max question length must be at least 1, got {o.MaxQuestionLen}");
        int maxSeqLen = o.MaxSeqLen ?? Math.Min(DefaultQaMaxSeqLen, MaxLength);
        if (maxSeqLen < 1 || maxSeqLen > MaxLength)
            throw new InputException($"max sequence length {maxSeqLen} is outside 1..{MaxLength} (this model's max length)");
        int stride = o.DocStride ?? Math.Min(maxSeqLen / 2, 128);
        if (stride < 0 || stride > maxSeqLen) throw new InputException($"doc stride {stride} is outside 0..{maxSeqLen} (max sequence length)");
        return (maxSeqLen, stride);
    }

    /// <summary>Start and end logits [B, S] of one padded batch.</summary>
    private (float[] Start, float[] End) RunQa(EncodedBatch batch)
    {
        var state = Rent(batch.BatchSize, batch.SeqLen);
        try
        {
            _encoder.Forward(state, batch);
            return QaLogits(state, batch);
        }
        finally { _states.Add(state); }
    }

    /// <summary>qa_outputs on every token of the last hidden state, split into start and end logits [B, S].</summary>
    private (float[] Start, float[] End) QaLogits(RunState state, EncodedBatch batch)
    {
        var qa = _heads.QaOutputs!;
        int tokens = batch.BatchSize * batch.SeqLen;
        var both = new float[tokens * 2];
        Gemm.ComputeSerial(state.Hidden.AsSpan(0, tokens * qa.In), qa.Weight.Span, qa.Bias.Span, both, tokens, 2, qa.In);
        var start = new float[tokens];
        var end = new float[tokens];
        for (int t = 0; t < tokens; t++) { start[t] = both[2 * t]; end[t] = both[2 * t + 1]; }
        return (start, end);
    }

    /// <summary>How to tell a token that continues the previous token's word, or null when the tokenizer's tokens do not say
    /// (the span then keeps its tokens' own offsets). WordPiece marks continuations with its prefix (##).</summary>
    internal static Func<string, bool>? ContinuationTest(ITokenizer tokenizer) =>
        tokenizer is WordPieceTokenizer { Options.ContinuingSubwordPrefix: { Length: > 0 } prefix }
            ? token => token.Length > prefix.Length && token.StartsWith(prefix, StringComparison.Ordinal)
            : null;

    /// <summary>The pipeline maps a span to the characters of the whole words its first and last token belong to
    /// (within the window): move the start back and the end forward over continuation tokens of the context.</summary>
    internal static (int Start, int End) WidenToWords(Encoding w, int s, int e, Func<string, bool> isContinuation)
    {
        while (s > 0 && w.SequenceIds[s - 1] == 1 && isContinuation(w.Tokens[s])) s--;
        while (e + 1 < w.Length && w.SequenceIds[e + 1] == 1 && isContinuation(w.Tokens[e + 1])) e++;
        return (s, e);
    }
}
