namespace NativeTransformer.Training.Loop;

/// <summary>
/// The training loop's settings. Defaults follow Hugging Face's Trainer where it has one (warm-up 0, max_grad_norm 1,
/// seed 42, AdamW betas 0.9/0.999, eps 1e-8) except weight decay (0.01, as AdamWOptions).
/// <see cref="MaxSteps"/> and <see cref="MaxMinutes"/> stop early without changing the schedule (which always spans
/// Epochs × batches per epoch), so a run stopped at step k and resumed ends where an uninterrupted run ends.
/// </summary>
public sealed record TrainerOptions
{
    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 5e-5;
    public double WarmupRatio { get; init; }
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Global-norm clipping threshold; 0 turns clipping off.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    public ulong Seed { get; init; } = 42;
    public int Threads { get; init; } = 1;
    public int MaxLength { get; init; } = 128;
    public int? MaxSteps { get; init; }
    public double? MaxMinutes { get; init; }
    public bool KeepSparsity { get; init; }
    /// <summary>Hidden and attention dropout probability (0 = off; Hugging Face's BERT configs train with 0.1).</summary>
    public double Dropout { get; init; }
    public int? CheckpointEverySteps { get; init; }
    public double? CheckpointEveryMinutes { get; init; }
    /// <summary>Where checkpoints go (written atomically); null = no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }

    public void Validate()
    {
        if (Epochs < 1) throw new InputException($"--epochs must be at least 1, got {Epochs}");
        if (BatchSize < 1) throw new InputException($"--batch-size must be at least 1, got {BatchSize}");
        if (!(LearningRate >= 0) || double.IsInfinity(LearningRate)) throw new InputException($"--lr must be a finite number ≥ 0, got {LearningRate}");
        if (!(WarmupRatio >= 0 && WarmupRatio <= 1)) throw new InputException($"--warmup-ratio must be in [0, 1], got {WarmupRatio}");
        if (!(MaxGradNorm >= 0) || double.IsInfinity(MaxGradNorm)) throw new InputException($"--max-grad-norm must be a finite number ≥ 0, got {MaxGradNorm}");
        if (Threads < 1) throw new InputException($"--threads must be at least 1, got {Threads}");
        if (!(Dropout >= 0 && Dropout < 1)) throw new InputException($"--dropout must be in [0, 1), got {Dropout}");
        if (MaxLength < 2) throw new InputException($"--max-length must be at least 2, got {MaxLength}");
    }
}

/// <summary>What one call of <see cref="Trainer.Run"/> did.</summary>
public sealed record TrainingSummary(int Steps, int TotalSteps, long Examples, double Seconds, double FinalLoss, double MeanLossLastEpoch,
    string StoppedBy, int ResumedFromStep, int Truncated, long FrozenWeights)
{
    public double ExamplesPerSecond => Seconds > 0 ? Examples / Seconds : 0;
}

/// <summary>A progress report after each update.</summary>
public readonly record struct TrainingProgress(int Step, int TotalSteps, double Loss, double ExamplesPerSecond, TimeSpan Elapsed, TimeSpan? Remaining);
