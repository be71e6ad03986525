namespace NativeTransformer.Training.Loop;

/// <summary>
/// Hugging Face's <c>get_linear_schedule_with_warmup</c>: the update made after <c>k</c> earlier updates uses
/// lr · k / max(1, W) while k &lt; W, then lr · max(0, (N − k) / max(1, N − W)). So with warm-up the first update has
/// learning rate 0, as in HF (the scheduler steps after the optimizer). W = ceil(N · warmup_ratio) as TrainingArguments.
/// </summary>
public sealed record LinearWarmupSchedule(double PeakLearningRate, int TotalSteps, int WarmupSteps)
{
    public static LinearWarmupSchedule FromRatio(double peak, int totalSteps, double warmupRatio) =>
        new(peak, totalSteps, (int)Math.Ceiling(totalSteps * warmupRatio));

    /// <summary>The learning rate of the update that follows <paramref name="completedSteps"/> updates.</summary>
    public double At(int completedSteps)
    {
        if (completedSteps < WarmupSteps) return PeakLearningRate * ((double)completedSteps / Math.Max(1, WarmupSteps));
        return PeakLearningRate * Math.Max(0.0, (double)(TotalSteps - completedSteps) / Math.Max(1, TotalSteps - WarmupSteps));
    }
}
