namespace NativeTransformer.Training.Loop;

/// <summary>
/// The sum of the selected losses (each weight 1) on one batch with ONE student forward and backward: the output
/// gradients of every term are added before the backward pass. ce reads the labels, kl the teacher's logits
/// (Losses.Distillation, T² scaled), embedding-mse the teacher's mean-pooled L2-normalised last hidden states.
/// The teacher runs forward once per batch; its outputs are constants.
/// </summary>
public sealed record TrainingObjective(bool CrossEntropy, bool KlDivergence, bool EmbeddingMse, double Temperature)
{
    public bool NeedsTeacher => KlDivergence || EmbeddingMse;
    public bool NeedsLabels => CrossEntropy;
    public bool NeedsClassifier => CrossEntropy || KlDivergence;

    /// <summary>Parses "ce,kl,embedding-mse" (kd is accepted for kl). Throws <see cref="InputException"/> naming a bad term.</summary>
    public static TrainingObjective Parse(string text, double temperature)
    {
        bool ce = false, kl = false, mse = false;
        foreach (var raw in text.Split(','))
        {
            switch (raw.Trim())
            {
                case "ce": ce = true; break;
                case "kl" or "kd": kl = true; break;
                case "embedding-mse": mse = true; break;
                default: throw new InputException($"--loss: unknown loss '{raw.Trim()}' (known: ce, kl, embedding-mse)");
            }
        }
        return new TrainingObjective(ce, kl, mse, temperature);
    }

    public string Name => string.Join(",", new[] { CrossEntropy ? "ce" : null, KlDivergence ? "kl" : null, EmbeddingMse ? "embedding-mse" : null }.Where(n => n is not null));

    /// <summary>Loss and parameter gradients (added into <paramref name="grads"/>, which must be zero).</summary>
    public double Compute(BertTrainingModel student, BertTrainingModel? teacher, TrainingBatch batch, ParameterSet grads, int threads)
    {
        var tape = student.Forward(batch, threads);
        var teacherTape = NeedsTeacher ? (teacher ?? throw new InputException("this loss needs a teacher")).Forward(batch, threads) : null;
        double loss = 0;
        float[]? dLogits = null, dHidden = null;
        if (CrossEntropy)
        {
            var l = Losses.CrossEntropy(tape.Logits, batch.Labels ?? throw new InputException("ce needs a label on every example"), batch.Batch, student.Labels);
            loss += l.Loss;
            dLogits = Add(dLogits, l.Gradient);
        }
        if (KlDivergence)
        {
            var l = Losses.Distillation(tape.Logits, teacherTape!.Logits, Temperature, batch.Batch, student.Labels);
            loss += l.Loss;
            dLogits = Add(dLogits, l.Gradient);
        }
        if (EmbeddingMse)
        {
            int w = student.Config.HiddenSize;
            var (se, sn) = Pool(tape.Hidden, batch, w);
            var (te, _) = Pool(teacherTape!.Hidden, batch, w);
            var l = Losses.MeanSquaredError(se, te);
            loss += l.Loss;
            dHidden = new float[tape.Hidden.Length];
            PoolingBackward.MeanNormalizeBackward(l.Gradient, se, sn, batch.AttentionMask, dHidden, batch.Batch, batch.Seq, w);
        }
        student.Backward(tape, dLogits, dHidden, grads, threads);
        return loss;
    }

    /// <summary>Refuses a student / teacher pair this objective cannot train (typed errors naming the mismatch).</summary>
    public void Check(BertTrainingModel student, BertTrainingModel? teacher)
    {
        if (!CrossEntropy && !KlDivergence && !EmbeddingMse) throw new InputException("--loss names no loss");
        if (NeedsClassifier && !student.HasClassifier) throw new InputException($"--loss {Name}: the student has no sequence-classification head");
        if (!NeedsTeacher) return;
        if (teacher is null) throw new InputException($"--loss {Name} needs a teacher");
        if (teacher.Config.VocabSize != student.Config.VocabSize)
            throw new InputException($"the teacher's vocabulary ({teacher.Config.VocabSize} ids) differs from the student's ({student.Config.VocabSize}); they must share a tokenizer");
        if (KlDivergence && (!teacher.HasClassifier || teacher.Labels != student.Labels))
            throw new InputException($"kl needs a teacher classifier with the student's {student.Labels} labels (teacher: {(teacher.HasClassifier ? teacher.Labels + " labels" : "no classifier")})");
        if (EmbeddingMse && teacher.Config.HiddenSize != student.Config.HiddenSize)
            throw new InputException($"embedding-mse needs equal widths: teacher {teacher.Config.HiddenSize}, student {student.Config.HiddenSize}");
    }

    private static float[] Add(float[]? acc, float[] g)
    {
        if (acc is null) return g;
        for (int i = 0; i < acc.Length; i++) acc[i] += g[i];
        return acc;
    }

    private static (float[] Embedding, float[] Norms) Pool(float[] hidden, TrainingBatch batch, int width)
    {
        var e = new float[batch.Batch * width];
        var n = new float[batch.Batch];
        PoolingBackward.MeanNormalizeForward(hidden, batch.AttentionMask, e, n, batch.Batch, batch.Seq, width);
        return (e, n);
    }
}
