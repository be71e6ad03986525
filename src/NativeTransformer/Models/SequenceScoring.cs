namespace NativeTransformer
{
    /// <summary>How a sequence classifier's logits become its scores.</summary>
    public enum ScoreFunction
    {
        /// <summary>Softmax over the labels (single-label classification with two or more labels).</summary>
        Softmax,
        /// <summary>One independent sigmoid per label (multi-label classification; a single-logit cross-encoder).</summary>
        Sigmoid,
        /// <summary>The raw logits (regression; a cross-encoder whose activation is Identity).</summary>
        Identity,
    }
}

namespace NativeTransformer.Models
{
    /// <summary>
    /// The score rule of a sequence classifier, from config.json:
    /// <list type="bullet">
    /// <item><c>problem_type</c> "regression" → the raw values;</item>
    /// <item>"multi_label_classification" → one sigmoid per label;</item>
    /// <item>one label (every cross-encoder) → the CrossEncoder activation the config names, Sigmoid when it names none
    /// (sentence-transformers' default for one label) — softmax over one logit would always be 1;</item>
    /// <item>otherwise softmax over the labels.</item>
    /// </list>
    /// </summary>
    public static class SequenceScoring
    {
        public static readonly IReadOnlyList<string> ProblemTypes = ["single_label_classification", "multi_label_classification", "regression"];

        public static ScoreFunction Resolve(ModelConfig config, int numLabels) => config.ProblemType switch
        {
            "regression" => ScoreFunction.Identity,
            "multi_label_classification" => ScoreFunction.Sigmoid,
            _ when numLabels == 1 => config.CrossEncoderActivation ?? ScoreFunction.Sigmoid,
            _ => ScoreFunction.Softmax,
        };

        /// <summary>Scores of one row of logits into <paramref name="scores"/> (same length).</summary>
        public static void Apply(ScoreFunction function, ReadOnlySpan<float> logits, Span<float> scores)
        {
            logits.CopyTo(scores);
            switch (function)
            {
                case ScoreFunction.Softmax: Kernels.Softmax.MaskedRow(scores, scores.Length); break;
                case ScoreFunction.Sigmoid: System.Numerics.Tensors.TensorPrimitives.Sigmoid(scores, scores); break;
            }
        }

        /// <summary>The name the CLI and the server print: softmax, sigmoid, identity.</summary>
        public static string Name(ScoreFunction function) => function switch
        {
            ScoreFunction.Sigmoid => "sigmoid",
            ScoreFunction.Identity => "identity",
            _ => "softmax",
        };

        internal static string? CheckProblemType(string? value, string source) =>
            value is null || ProblemTypes.Contains(value) ? value
                : throw new ModelConfigException($"{source}: problem_type \"{value}\" is not one of {string.Join(", ", ProblemTypes)}");

        /// <summary>The CrossEncoder activation named by a class path such as torch.nn.modules.activation.Sigmoid (only the
        /// last segment counts: torch.nn.Sigmoid is the same class).</summary>
        internal static ScoreFunction? ParseActivation(RawConfig r, string source)
        {
            var (key, value) = r.SentenceTransformers?.ActivationFn is { } fn ? ("sentence_transformers.activation_fn", fn)
                : ("sbert_ce_default_activation_function", r.SbertCeActivation);
            if (value is null) return null;
            return value[(value.LastIndexOf('.') + 1)..] switch
            {
                "Sigmoid" => ScoreFunction.Sigmoid,
                "Identity" => ScoreFunction.Identity,
                _ => throw new ModelConfigException($"{source}: {key} \"{value}\" is not supported (torch.nn.modules.activation.Sigmoid or torch.nn.modules.linear.Identity)"),
            };
        }
    }
}
