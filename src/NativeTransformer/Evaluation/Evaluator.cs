namespace NativeTransformer.Evaluation;

/// <summary>
/// A task's figures for one model. Fractions are kept unrounded; the <c>*Percent</c> properties give the reported
/// form (percent, 2 decimals). SST-2: accuracy; MRPC: accuracy and F1 of class 1 (paraphrase); STS-B: Spearman and
/// Pearson correlation of the cosine similarity of the two sentences' embeddings with the gold score.
/// </summary>
public sealed record EvalResult(EvalTask Task, int N, int Correct = 0, double F1 = 0, double Spearman = 0, double Pearson = 0)
{
    public double AccuracyPercent => Metrics.Percent(Correct, N);
    public double F1Percent => Metrics.Percent(F1);
    public double SpearmanPercent => Metrics.Percent(Spearman);
    public double PearsonPercent => Metrics.Percent(Pearson);

    /// <summary>The headline figure (accuracy, or Spearman for STS-B) in percent with 2 decimals.</summary>
    public double PrimaryPercent => Task == EvalTask.Stsb ? SpearmanPercent : AccuracyPercent;
}

/// <summary>Runs a loaded model over a task's examples in chunks and computes the task's metrics.</summary>
public static class Evaluator
{
    public const int DefaultChunkSize = 64;

    /// <summary>
    /// Evaluates <paramref name="model"/> on <paramref name="examples"/>. SST-2 and MRPC classify (MRPC as sentence
    /// pairs) and compare the best label index with the gold label; they need a classification head, else
    /// <see cref="InputException"/>. STS-B embeds both sentences with the model's own pooling and works for any model.
    /// <paramref name="progress"/> gets (examples done, total) after each chunk of <paramref name="chunkSize"/> examples.
    /// </summary>
    public static EvalResult Evaluate(TransformerModel model, EvalTask task, IReadOnlyList<TaskExample> examples,
        int chunkSize = DefaultChunkSize, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        if (examples.Count == 0) throw new InputException($"{task.Name()}: no examples to evaluate");
        if (task == EvalTask.Stsb && examples.Count < 2) throw new InputException("stsb: a correlation needs at least 2 examples");
        if (task.NeedsClassifier() && !model.HasClassifier)
            throw new InputException($"task {task.Name()} needs a sequence-classification head and this {model.Config.Architecture} model has none (stsb works with any model)");

        var predictions = new List<int>(examples.Count);
        var similarities = new List<double>(examples.Count);
        var batch = new List<TextInput>(2 * chunkSize);
        for (int start = 0; start < examples.Count; start += chunkSize)
        {
            int end = Math.Min(examples.Count, start + chunkSize);
            batch.Clear();
            if (task == EvalTask.Stsb)
            {
                for (int i = start; i < end; i++) batch.Add(new TextInput(examples[i].Text));
                for (int i = start; i < end; i++) batch.Add(new TextInput(examples[i].TextPair ?? ""));
                var vectors = model.Embed(batch);
                int count = end - start;
                for (int i = 0; i < count; i++) similarities.Add(Metrics.Cosine(vectors[i], vectors[count + i]));
            }
            else
            {
                for (int i = start; i < end; i++) batch.Add(examples[i].Input);
                foreach (var c in model.Classify(batch)) predictions.Add(c.LabelId);
            }
            progress?.Invoke(end, examples.Count);
        }

        if (task == EvalTask.Stsb)
        {
            var gold = new double[examples.Count];
            for (int i = 0; i < gold.Length; i++) gold[i] = examples[i].Label;
            return new EvalResult(task, examples.Count, Spearman: Metrics.Spearman(similarities, gold), Pearson: Metrics.Pearson(similarities, gold));
        }
        var labels = new int[examples.Count];
        for (int i = 0; i < labels.Length; i++) labels[i] = (int)examples[i].Label;
        return new EvalResult(task, examples.Count, Correct: Metrics.CountCorrect(predictions, labels),
            F1: task == EvalTask.Mrpc ? Metrics.F1(predictions, labels) : 0);
    }
}
