namespace NativeTransformer;

/// <summary>
/// Settings of <see cref="TransformerModel.AnswerQuestion"/>; the defaults are those of the Hugging Face
/// question-answering pipeline.
/// </summary>
public sealed record QuestionAnsweringOptions
{
    /// <summary>Answers returned, best first (fewer when fewer candidates exist).</summary>
    public int TopK { get; init; } = 1;
    /// <summary>Tokens per window, special tokens included; null = min(384, the model's max length).</summary>
    public int? MaxSeqLen { get; init; }
    /// <summary>Context tokens shared by consecutive windows; null = min(MaxSeqLen / 2, 128).</summary>
    public int? DocStride { get; init; }
    /// <summary>Question tokens kept (longer questions are cut to their first MaxQuestionLen tokens).</summary>
    public int MaxQuestionLen { get; init; } = 64;
    /// <summary>Most tokens an answer may span.</summary>
    public int MaxAnswerLen { get; init; } = 15;
    /// <summary>Also consider "no answer" (score: the smallest over the windows of p_start[0]·p_end[0]), returned as an
    /// empty answer at (0, 0).</summary>
    public bool HandleImpossibleAnswer { get; init; }
}

/// <summary>One extracted answer: <see cref="Answer"/> is context[<see cref="Start"/>..<see cref="End"/>) (UTF-16 indices);
/// <see cref="Score"/> is p_start·p_end, the softmax probabilities of its first and last token.</summary>
public sealed record QuestionAnswer(string Answer, float Score, int Start, int End);
