namespace NativeTransformer.Training;

/// <summary>The losses the gradients command (and later distill / finetune) optimise.</summary>
public enum TrainingLoss { CrossEntropy, Distillation, EmbeddingMse }

/// <summary>One loss evaluation: the value, the parameter gradients (HF-named, full shapes) and the outputs it read.</summary>
public sealed record GradientResult(double Loss, ParameterSet Gradients, float[] StudentOutput, float[]? TeacherOutput);

/// <summary>
/// Loss and gradient of a student model on one batch: forward with activations kept, the loss on the classifier logits
/// (cross-entropy, distillation from a teacher's logits) or on the mean-pooled L2-normalised last hidden states (MSE to
/// the teacher's), backward. The teacher runs forward only; its outputs are constants.
/// </summary>
public static class GradientComputation
{
    public static GradientResult Compute(BertTrainingModel student, TrainingBatch batch, TrainingLoss loss, BertTrainingModel? teacher,
        double temperature, int threads)
    {
        var tape = student.Forward(batch, threads);
        var grads = student.Parameters.ZerosLike();
        switch (loss)
        {
            case TrainingLoss.CrossEntropy:
            {
                RequireClassifier(student, "the student");
                if (batch.Labels is null) throw new InputException("cross-entropy needs a label on every item");
                var l = Losses.CrossEntropy(tape.Logits, batch.Labels, batch.Batch, student.Labels);
                student.Backward(tape, l.Gradient, null, grads, threads);
                return new GradientResult(l.Loss, grads, tape.Logits, null);
            }
            case TrainingLoss.Distillation:
            {
                RequireClassifier(student, "the student");
                if (teacher is null) throw new InputException("distillation needs a teacher (--teacher DIR)");
                RequireClassifier(teacher, "the teacher");
                if (teacher.Labels != student.Labels)
                    throw new InputException($"the teacher has {teacher.Labels} labels and the student {student.Labels}");
                var teacherLogits = teacher.Forward(batch, threads).Logits;
                var l = Losses.Distillation(tape.Logits, teacherLogits, temperature, batch.Batch, student.Labels);
                student.Backward(tape, l.Gradient, null, grads, threads);
                return new GradientResult(l.Loss, grads, tape.Logits, teacherLogits);
            }
            case TrainingLoss.EmbeddingMse:
            {
                if (teacher is null) throw new InputException("embedding distillation needs a teacher (--teacher DIR)");
                int w = student.Config.HiddenSize;
                if (teacher.Config.HiddenSize != w)
                    throw new InputException($"embedding MSE needs equal widths: teacher {teacher.Config.HiddenSize}, student {w}");
                var teacherTape = teacher.Forward(batch, threads);
                var (se, sn) = Pool(tape.Hidden, batch, w);
                var (te, _) = Pool(teacherTape.Hidden, batch, w);
                var l = Losses.MeanSquaredError(se, te);
                var dHidden = new float[tape.Hidden.Length];
                PoolingBackward.MeanNormalizeBackward(l.Gradient, se, sn, batch.AttentionMask, dHidden, batch.Batch, batch.Seq, w);
                student.Backward(tape, null, dHidden, grads, threads);
                return new GradientResult(l.Loss, grads, se, te);
            }
            default: throw new ArgumentOutOfRangeException(nameof(loss));
        }
    }

    private static (float[] Embedding, float[] Norms) Pool(float[] hidden, TrainingBatch batch, int width)
    {
        var e = new float[batch.Batch * width];
        var n = new float[batch.Batch];
        PoolingBackward.MeanNormalizeForward(hidden, batch.AttentionMask, e, n, batch.Batch, batch.Seq, width);
        return (e, n);
    }

    private static void RequireClassifier(BertTrainingModel m, string who)
    {
        if (!m.HasClassifier) throw new InputException($"{who} has no sequence-classification head (pooler + classifier), which this loss reads");
    }
}
