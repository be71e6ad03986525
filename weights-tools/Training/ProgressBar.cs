using System.Diagnostics;
using System.Globalization;
using NativeTransformer.Training.Loop;

namespace NativeTransformer.WeightsTools.Training;

/// <summary>A one-line progress bar on stderr (redrawn with \r, at most twice a second): step, loss, examples/s, ETA.
/// Only used when stderr is a terminal, so logs and pipes get none of it.</summary>
internal sealed class ProgressBar(TextWriter stderr)
{
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private bool _drawn;

    public static bool StderrIsTerminal(TextWriter stderr) => ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;

    public void Report(TrainingProgress p)
    {
        if (_drawn && p.Step < p.TotalSteps && _sinceDraw.ElapsedMilliseconds < 500) return;
        _sinceDraw.Restart();
        _drawn = true;
        const int width = 30;
        int filled = (int)((long)width * p.Step / Math.Max(1, p.TotalSteps));
        string eta = p.Remaining is { } r ? $"{(int)r.TotalMinutes}m{r.Seconds:D2}s" : "?";
        stderr.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r[{new string('#', filled)}{new string('.', width - filled)}] {p.Step}/{p.TotalSteps} loss {p.Loss:F4} {p.ExamplesPerSecond:F1} ex/s ETA {eta}   "));
    }

    public void Finish()
    {
        if (_drawn) stderr.WriteLine();
    }
}
