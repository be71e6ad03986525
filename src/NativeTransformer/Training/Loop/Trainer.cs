using System.Diagnostics;
using System.Globalization;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Training.Loop;

/// <summary>
/// The training loop: epochs over the examples in an order shuffled by <see cref="SplitMix64"/> (one permutation per
/// epoch), batches tokenized with the student's tokenizer (right-padded, truncated to MaxLength), the objective's loss
/// and gradients, the keep-sparsity mask, global-norm clipping, AdamW with the linear warm-up / decay schedule.
/// Every step is a deterministic function of (weights, optimizer state, batch), all computed the same for any thread
/// count, so results are bitwise identical for any <see cref="TrainerOptions.Threads"/>, and resuming from a checkpoint
/// reproduces the uninterrupted run bit for bit. A NaN / Inf loss or gradient norm stops with
/// <see cref="TrainingDivergedException"/> before the update, leaving the last checkpoint as the last good state.
/// </summary>
public sealed class Trainer(BertTrainingModel student, BertTrainingModel? teacher, ITokenizer tokenizer, TrainingObjective objective, TrainerOptions options)
{
    /// <summary>Test hook: a value added to the loss of the given step (1-based), to prove the NaN path.</summary>
    internal (int Step, double Add)? InjectLoss { get; init; }

    public TrainingSummary Run(IReadOnlyList<TrainingExample> examples, bool resume, Action<TrainingProgress>? progress = null)
    {
        options.Validate();
        objective.Check(student, teacher, unchecked((int)options.Seed));
        if (examples.Count == 0) throw new InputException("no training examples");
        if (objective.NeedsLabels)
            for (int i = 0; i < examples.Count; i++)
                if (examples[i].Label is not { } l || l < 0 || l >= student.Labels)
                    throw new InputException($"example {i}: ce needs a label in 0..{student.Labels - 1}, got {examples[i].Label?.ToString(CultureInfo.InvariantCulture) ?? "none"}");

        int batchesPerEpoch = (examples.Count + options.BatchSize - 1) / options.BatchSize;
        int totalSteps = checked(batchesPerEpoch * options.Epochs);
        var schedule = LinearWarmupSchedule.FromRatio(options.LearningRate, totalSteps, options.WarmupRatio);
        var optimizer = new AdamW(new AdamWOptions(options.LearningRate, WeightDecay: options.WeightDecay));
        var mask = options.KeepSparsity ? SparsityMask.FromWeights(student.Parameters) : null;
        // One optimizer and one checkpoint over the student and the objective's own parameters (the hidden-mse
        // projection when widths differ): both resume together, and the projection's names cannot clash with checkpoint keys.
        var trainable = new ParameterSet();
        foreach (var p in student.Parameters.All) trainable.Add(p);
        foreach (var p in objective.Parameters.All) trainable.Add(p);
        string fingerprint = string.Create(CultureInfo.InvariantCulture,
            $"examples={examples.Count} batch={options.BatchSize} epochs={options.Epochs} lr={options.LearningRate:R} warmup={options.WarmupRatio:R} " +
            $"wd={options.WeightDecay:R} clip={options.MaxGradNorm:R} seed={options.Seed} max_length={options.MaxLength} loss={objective.Name} T={objective.Temperature:R} keep_sparsity={options.KeepSparsity} dropout={options.Dropout:R}");

        var rng = new SplitMix64(options.Seed);
        var order = Enumerable.Range(0, examples.Count).ToArray();
        var pos = new TrainerPosition(0, 0, 0, rng.State, rng.State, 0);
        if (resume && options.CheckpointDirectory is { } ckDir && TrainingCheckpoint.Exists(ckDir))
        {
            pos = TrainingCheckpoint.Load(ckDir, trainable, optimizer, fingerprint);
            if (pos.BatchInEpoch > 0)
            {
                rng.State = pos.EpochRngState;
                rng.Shuffle(order); // the current epoch's order, as it was drawn
            }
            else rng.State = pos.RngState; // between epochs: the next epoch draws from here
            if (rng.State != pos.RngState) throw new InputException($"{ckDir}: the checkpoint's generator state does not match its epoch start");
        }
        int resumedFrom = pos.Step;
        int step = pos.Step, epoch = pos.Epoch, batchInEpoch = pos.BatchInEpoch;
        ulong epochRng = pos.EpochRngState;
        long examplesSeen = pos.Examples, examplesThisRun = 0;
        int truncated = 0;
        double lastLoss = double.NaN, epochLossSum = 0, lastEpochMean = double.NaN;
        int epochLossCount = 0;
        var clock = Stopwatch.StartNew();
        var sinceCheckpoint = Stopwatch.StartNew();
        string stoppedBy = "completed";
        int stepsThisRun = 0;

        while (step < totalSteps)
        {
            if (options.MaxSteps is { } ms && step >= ms) { stoppedBy = "max-steps"; break; }
            if (options.MaxMinutes is { } mm && clock.Elapsed.TotalMinutes >= mm) { stoppedBy = "max-minutes"; break; }
            if (batchInEpoch == 0)
            {
                for (int i = 0; i < order.Length; i++) order[i] = i;
                epochRng = rng.State;
                rng.Shuffle(order);
            }
            int start = batchInEpoch * options.BatchSize, end = Math.Min(examples.Count, start + options.BatchSize);
            var rows = new List<(string, string?)>(end - start);
            int[]? labels = objective.NeedsLabels ? new int[end - start] : null;
            for (int i = start; i < end; i++)
            {
                var e = examples[order[i]];
                rows.Add((e.Text, e.TextPair));
                if (labels is not null) labels[i - start] = e.Label!.Value;
            }
            var encoded = tokenizer.EncodeBatch(rows, options.MaxLength);
            truncated += encoded.Rows.Count(r => r.Truncated);
            var batch = TrainingBatch.From(encoded, labels);

            // Dropout keyed by (seed, step): the same mask for any thread count and after a resume.
            var dropout = options.Dropout > 0 ? new DropoutOptions(options.Dropout, options.Dropout, options.Seed, step) : null;
            var result = GradientComputation.Compute(student, batch, objective, teacher, objective.Parameters, options.Threads, dropout);
            double loss = result.Loss;
            var grads = new ParameterSet();
            foreach (var g in result.Gradients.All) grads.Add(g);
            foreach (var g in result.ObjectiveGradients.All) grads.Add(g);
            if (InjectLoss is { } inj && inj.Step == step + 1) loss += inj.Add;
            if (!double.IsFinite(loss)) throw new TrainingDivergedException(step + 1, loss, "loss");
            mask?.MaskGradients(grads);
            double norm = options.MaxGradNorm > 0 ? GradientClipping.Clip(grads, options.MaxGradNorm) : GradientClipping.GlobalNorm(grads);
            if (!double.IsFinite(norm)) throw new TrainingDivergedException(step + 1, norm, "gradient norm");
            optimizer.LearningRate = schedule.At(step);
            optimizer.Apply(trainable, grads);
            mask?.RestoreZeros(student.Parameters);

            step++; stepsThisRun++;
            examplesSeen += end - start; examplesThisRun += end - start;
            lastLoss = loss; epochLossSum += loss; epochLossCount++;
            if (++batchInEpoch == batchesPerEpoch)
            {
                batchInEpoch = 0; epoch++;
                lastEpochMean = epochLossSum / epochLossCount; epochLossSum = 0; epochLossCount = 0;
            }
            if (progress is not null)
            {
                double rate = examplesThisRun / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                long remainingExamples = (long)(totalSteps - step) * options.BatchSize;
                progress(new TrainingProgress(step, totalSteps, loss, rate, clock.Elapsed, rate > 0 ? TimeSpan.FromSeconds(remainingExamples / rate) : null));
            }
            bool due = (options.CheckpointEverySteps is { } cs && step % cs == 0) ||
                       (options.CheckpointEveryMinutes is { } cm && sinceCheckpoint.Elapsed.TotalMinutes >= cm);
            if (due && options.CheckpointDirectory is { } dir)
            {
                TrainingCheckpoint.Save(dir, trainable, optimizer, new TrainerPosition(step, epoch, batchInEpoch, epochRng, rng.State, examplesSeen), fingerprint);
                sinceCheckpoint.Restart();
            }
        }
        // The final state is always checkpointed (so a run stopped by --max-steps / --max-minutes can be resumed).
        if (options.CheckpointDirectory is { } final && stepsThisRun > 0)
            TrainingCheckpoint.Save(final, trainable, optimizer, new TrainerPosition(step, epoch, batchInEpoch, epochRng, rng.State, examplesSeen), fingerprint);
        if (epochLossCount > 0 && double.IsNaN(lastEpochMean)) lastEpochMean = epochLossSum / epochLossCount;
        return new TrainingSummary(step, totalSteps, examplesThisRun, clock.Elapsed.TotalSeconds, lastLoss, lastEpochMean, stoppedBy, resumedFrom, truncated,
            mask?.FrozenCount ?? 0);
    }
}
