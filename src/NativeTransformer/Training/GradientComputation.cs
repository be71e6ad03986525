namespace NativeTransformer.Training;

/// <summary>The losses the gradients command offered first (kept for callers of the one-loss form).</summary>
public enum TrainingLoss { CrossEntropy, Distillation, EmbeddingMse }

/// <summary>One loss evaluation: the value, the parameter gradients (HF-named, full shapes) and the outputs it read.</summary>
public sealed record GradientResult(double Loss, ParameterSet Gradients, float[] StudentOutput, float[]? TeacherOutput);

/// <summary>One objective evaluation: Σ wᵢ·termᵢ, each term's unweighted value (in objective order), the student's parameter
/// gradients and the gradients of the objective's own parameters (the hidden projection; empty set when none).</summary>
public sealed record ObjectiveResult(double Loss, IReadOnlyList<(string Term, double Value)> Terms, ParameterSet Gradients,
    ParameterSet ObjectiveGradients, BertTrainingModel.Tape StudentTape);

/// <summary>
/// Loss and gradient of a student model on one batch: one forward with activations kept, every term of the
/// <see cref="TrainingObjective"/> on what it reads (logits, hidden states, sentence embeddings), their weighted output
/// gradients summed, one backward. The teacher runs forward only (eval mode); its outputs are constants.
/// </summary>
public static class GradientComputation
{
    public static GradientResult Compute(BertTrainingModel student, TrainingBatch batch, TrainingLoss loss, BertTrainingModel? teacher,
        double temperature, int threads)
    {
        var kind = loss switch
        {
            TrainingLoss.CrossEntropy => ObjectiveTermKind.CrossEntropy,
            TrainingLoss.Distillation => ObjectiveTermKind.Distillation,
            TrainingLoss.EmbeddingMse => ObjectiveTermKind.EmbeddingMse,
            _ => throw new ArgumentOutOfRangeException(nameof(loss)),
        };
        var r = Compute(student, batch, TrainingObjective.Single(kind, temperature), teacher, new ParameterSet(), threads);
        float[] output = kind == ObjectiveTermKind.EmbeddingMse ? Pool(r.StudentTape.Hidden, batch, student.Config.HiddenSize).Embedding : r.StudentTape.Logits;
        return new GradientResult(r.Loss, r.Gradients, output, null);
    }

    /// <summary>
    /// Evaluates <paramref name="objective"/> on <paramref name="batch"/>. <paramref name="objectiveParameters"/> comes from
    /// <see cref="TrainingObjective.CreateParameters"/> (the trainer keeps and updates it); <paramref name="dropout"/> = null is eval mode.
    /// </summary>
    public static ObjectiveResult Compute(BertTrainingModel student, TrainingBatch batch, TrainingObjective objective,
        BertTrainingModel? teacher, ParameterSet objectiveParameters, int threads, DropoutOptions? dropout = null)
    {
        if (objective.NeedsTeacher && teacher is null)
            throw new InputException($"the objective '{objective}' compares with a teacher; give one (--teacher DIR)");
        if (objective.ReadsLogits) RequireClassifier(student, "the student");
        var tape = student.Forward(batch, threads, dropout);
        var teacherTape = objective.NeedsTeacher ? teacher!.Forward(batch, threads) : null;
        var grads = student.Parameters.ZerosLike();
        var objectiveGrads = objectiveParameters.ZerosLike();
        int layers = student.Config.NumLayers, w = student.Config.HiddenSize;
        float[]? dLogits = null;
        var dStates = new float[]?[layers + 1];
        var values = new List<(string, double)>();
        double total = 0;
        (float[] Embedding, float[] Norms)? studentPooled = null, teacherPooled = null;

        foreach (var term in objective.Terms)
        {
            double value;
            switch (term.Kind)
            {
                case ObjectiveTermKind.CrossEntropy:
                {
                    if (batch.Labels is null) throw new InputException("cross-entropy needs a label on every item");
                    var l = Losses.CrossEntropy(tape.Logits, batch.Labels, batch.Batch, student.Labels);
                    Accumulate(ref dLogits, l.Gradient, term.Weight);
                    value = l.Loss;
                    break;
                }
                case ObjectiveTermKind.Distillation:
                {
                    RequireClassifier(teacher!, "the teacher");
                    if (teacher!.Labels != student.Labels)
                        throw new InputException($"the teacher has {teacher.Labels} labels and the student {student.Labels}");
                    var l = Losses.Distillation(tape.Logits, teacherTape!.Logits, objective.Temperature, batch.Batch, student.Labels);
                    Accumulate(ref dLogits, l.Gradient, term.Weight);
                    value = l.Loss;
                    break;
                }
                case ObjectiveTermKind.HiddenMse:
                    value = HiddenMse(term, student, teacher!, tape, teacherTape!, objectiveParameters, objectiveGrads, dStates, batch, threads);
                    break;
                default:
                {
                    if (teacher!.Config.HiddenSize != w)
                        throw new InputException($"{term.Name} needs equal widths: teacher {teacher.Config.HiddenSize}, student {w}");
                    studentPooled ??= Pool(tape.Hidden, batch, w);
                    teacherPooled ??= Pool(teacherTape!.Hidden, batch, w);
                    var (se, sn) = studentPooled.Value;
                    var te = teacherPooled.Value.Embedding;
                    var l = term.Kind == ObjectiveTermKind.EmbeddingMse ? Losses.MeanSquaredError(se, te) : Losses.CosineDistance(se, te, batch.Batch, w);
                    var dHidden = new float[tape.Hidden.Length];
                    PoolingBackward.MeanNormalizeBackward(l.Gradient, se, sn, batch.AttentionMask, dHidden, batch.Batch, batch.Seq, w);
                    Accumulate(ref dStates[layers], dHidden, term.Weight);
                    value = l.Loss;
                    break;
                }
            }
            values.Add((term.Name, value));
            total += term.Weight * value;
        }
        student.BackwardFromHiddenStates(tape, dLogits, dStates, grads, threads);
        return new ObjectiveResult(total, values, grads, objectiveGrads, tape);
    }

    /// <summary>
    /// Mean over the mapped pairs of the masked MSE between (projected) student hidden state i and teacher hidden state
    /// map(i); adds the weighted gradients to <paramref name="dStates"/> and the projection's to <paramref name="objectiveGrads"/>.
    /// </summary>
    private static double HiddenMse(ObjectiveTerm term, BertTrainingModel student, BertTrainingModel teacher, BertTrainingModel.Tape tape,
        BertTrainingModel.Tape teacherTape, ParameterSet objectiveParameters, ParameterSet objectiveGrads, float[]?[] dStates, TrainingBatch batch, int threads)
    {
        var map = TrainingObjective.LayerMapFor(term, student, teacher);
        int ds = student.Config.HiddenSize, dt = teacher.Config.HiddenSize, t = batch.Batch * batch.Seq;
        bool project = ds != dt;
        if (project && !objectiveParameters.Contains(TrainingObjective.ProjectionWeight))
            throw new InputException($"hidden-mse between widths {ds} (student) and {dt} (teacher) needs the learned projection: pass TrainingObjective.CreateParameters(student, teacher, seed)");
        double sum = 0;
        foreach (var (si, ti) in map)
        {
            var s = tape.HiddenState(si);
            var projected = s;
            if (project)
            {
                projected = new float[(long)t * dt];
                LinearBackward.Forward(s, objectiveParameters[TrainingObjective.ProjectionWeight].Values,
                    objectiveParameters[TrainingObjective.ProjectionBias].Values, projected, t, dt, ds, threads);
            }
            var l = Losses.MaskedMeanSquaredError(projected, teacherTape.HiddenState(ti), batch.AttentionMask, dt);
            sum += l.Loss;
            var g = l.Gradient;
            for (int i = 0; i < g.Length; i++) g[i] = (float)(g[i] * term.Weight / map.Count);
            if (project)
            {
                LinearBackward.WeightGradient(g, s, objectiveGrads[TrainingObjective.ProjectionWeight].Values,
                    objectiveGrads[TrainingObjective.ProjectionBias].Values, t, dt, ds, threads);
                var dS = new float[(long)t * ds];
                LinearBackward.InputGradient(g, objectiveParameters[TrainingObjective.ProjectionWeight].Values, dS, t, dt, ds, threads);
                g = dS;
            }
            Accumulate(ref dStates[si], g, 1);
        }
        return sum / map.Count;
    }

    private static void Accumulate(ref float[]? target, float[] gradient, double weight)
    {
        if (target is null)
        {
            target = weight == 1 ? gradient : new float[gradient.Length];
            if (weight == 1) return;
        }
        for (int i = 0; i < gradient.Length; i++) target[i] += (float)(weight * gradient[i]);
    }

    internal static (float[] Embedding, float[] Norms) Pool(float[] hidden, TrainingBatch batch, int width)
    {
        var e = new float[batch.Batch * width];
        var n = new float[batch.Batch];
        PoolingBackward.MeanNormalizeForward(hidden, batch.AttentionMask, e, n, batch.Batch, batch.Seq, width);
        return (e, n);
    }

    private static void RequireClassifier(BertTrainingModel m, string who)
    {
        if (!m.HasClassifier) throw new InputException($"{who} has no sequence-classification head (pooler or pre-classifier + classifier), which this loss reads");
    }
}
