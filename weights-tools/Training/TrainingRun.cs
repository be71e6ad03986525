using System.Diagnostics;
using System.Text.Json;
using NativeTransformer.Compression;
using NativeTransformer.Evaluation;
using NativeTransformer.Tokenization;
using NativeTransformer.Training;
using NativeTransformer.Training.Loop;
using NativeTransformer.Weights;

namespace NativeTransformer.WeightsTools.Training;

/// <summary>
/// What finetune and distill share once the student folder is known: load, check, estimate memory, evaluate before,
/// train, write OUTPUT as an ordinary Hugging Face folder (config, tokenizer files, model.safetensors with the student's
/// tensor names), evaluate after, and print the JSON summary on stdout.
/// </summary>
internal static class TrainingRun
{
    /// <summary>Checks OUTPUT before anything expensive: it must be creatable and writable, and empty unless resuming
    /// (then it must hold a checkpoint). Throws <see cref="InputException"/>.</summary>
    public static string PrepareOutput(TrainingArgs args)
    {
        string output = Path.GetFullPath(args.Output);
        if (File.Exists(output)) throw new InputException($"{output}: the output path is a file");
        bool nonEmpty = Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any();
        if (args.Resume && !TrainingCheckpoint.Exists(args.Trainer.CheckpointDirectory!))
            throw new InputException($"{output}: --resume needs a checkpoint in {args.Trainer.CheckpointDirectory}");
        if (!args.Resume && nonEmpty) throw new InputException($"{output}: the output folder exists and is not empty (pass --resume to continue its checkpoint)");
        ModelFolderOutput.EnsureWritable(output, keep: true);
        return output;
    }

    public static int Execute(string command, TrainingArgs args, string studentDir, string? teacherDir, TrainingObjective objective,
        IReadOnlyList<TrainingExample> examples, TextWriter stdout, TextWriter stderr)
    {
        var clock = Stopwatch.StartNew();
        string output = Path.GetFullPath(args.Output);
        var student = BertTrainingModel.Load(studentDir);
        var teacher = teacherDir is null ? null : BertTrainingModel.Load(teacherDir);
        objective.Check(student, teacher);
        args.Trainer.Validate();
        int seq = Math.Min(args.Trainer.MaxLength, student.Config.MaxSequenceLength);
        var trainerOptions = args.Trainer with { MaxLength = seq };
        long estimate = TrainingMemory.Estimate(student, teacher, args.Trainer.BatchSize, seq);
        if (args.MaxMemoryBytes is { } limit && estimate > limit) throw new TrainingMemoryException(estimate, limit);

        List<TaskExample>? dev = args.Eval is null ? null : TaskDataReader.ReadFile(EvalTask.Sst2, args.Eval);
        double? before = dev is null ? null : Accuracy(studentDir, dev, args.Trainer.Threads);

        CopyNonWeightFiles(studentDir, output);
        var tokenizer = TokenizerLoader.FromDirectory(studentDir);
        var bar = ProgressBar.StderrIsTerminal(stderr) ? new ProgressBar(stderr) : null;
        TrainingSummary summary;
        try
        {
            summary = new Trainer(student, teacher, tokenizer, objective, trainerOptions).Run(examples, args.Resume, bar is null ? null : bar.Report);
        }
        finally { bar?.Finish(); }
        WriteModel(studentDir, output, student.Parameters);
        double? after = dev is null ? null : Accuracy(output, dev, args.Trainer.Threads);

        stdout.WriteLine(SummaryJson(command, objective, summary, estimate, before, after, output, clock.Elapsed.TotalMinutes));
        return 0;
    }

    private static string SummaryJson(string command, TrainingObjective objective, TrainingSummary s, long estimate, double? before, double? after,
        string output, double minutes)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("command", command);
            w.WriteString("loss", objective.Name);
            w.WriteNumber("steps", s.Steps);
            w.WriteNumber("total_steps", s.TotalSteps);
            w.WriteNumber("resumed_from_step", s.ResumedFromStep);
            w.WriteString("stopped_by", s.StoppedBy);
            w.WriteNumber("examples", s.Examples);
            w.WriteNumber("examples_per_s", Math.Round(s.ExamplesPerSecond, 2));
            if (double.IsFinite(s.FinalLoss)) w.WriteNumber("final_loss", s.FinalLoss); else w.WriteNull("final_loss");
            if (double.IsFinite(s.MeanLossLastEpoch)) w.WriteNumber("mean_loss_last_epoch", s.MeanLossLastEpoch); else w.WriteNull("mean_loss_last_epoch");
            w.WriteNumber("truncated", s.Truncated);
            w.WriteNumber("frozen_zero_weights", s.FrozenWeights);
            w.WriteNumber("peak_rss_bytes", Process.GetCurrentProcess().PeakWorkingSet64);
            w.WriteNumber("estimated_memory_bytes", estimate);
            w.WriteNumber("training_seconds", Math.Round(s.Seconds, 2));
            w.WriteNumber("minutes", Math.Round(minutes, 3));
            if (before is { } b) w.WriteNumber("dev_accuracy_before", Math.Round(b, 2));
            if (after is { } a) w.WriteNumber("dev_accuracy_after", Math.Round(a, 2));
            w.WriteString("output", output);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static double Accuracy(string modelDir, List<TaskExample> dev, int threads)
    {
        using var model = TransformerModel.Load(modelDir, new LoadOptions { Threads = threads });
        return Evaluator.Evaluate(model, EvalTask.Sst2, dev).AccuracyPercent;
    }

    /// <summary>The student's config, tokenizer and other top-level non-weight files, copied into OUTPUT unless already
    /// there (a resumed run); subfolders (sentence-transformers modules) too, except the run's own checkpoint folders.</summary>
    private static void CopyNonWeightFiles(string studentDir, string output)
    {
        string[] own = ["checkpoint", "checkpoint.tmp", "checkpoint.old", DistillStudent.FolderName];
        string[] notCopied = ["REFERENCE_ACCURACY.json"]; // ../shared/models records the source model's accuracy there; it would mislabel ours
        foreach (string file in Directory.EnumerateFiles(studentDir))
        {
            string name = Path.GetFileName(file), to = Path.Combine(output, name);
            if (name == Checkpoint.IndexFileName || name.EndsWith(".safetensors", StringComparison.Ordinal) || notCopied.Contains(name) || File.Exists(to)) continue;
            File.Copy(file, to);
        }
        foreach (string dir in Directory.EnumerateDirectories(studentDir))
        {
            string name = Path.GetFileName(dir), to = Path.Combine(output, name);
            if (own.Contains(name) || Directory.Exists(to)) continue;
            CopyTree(dir, to);
        }
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.EnumerateFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (string d in Directory.EnumerateDirectories(from)) CopyTree(d, Path.Combine(to, Path.GetFileName(d)));
    }

    /// <summary>OUTPUT/model.safetensors: the student's tensors in its order, trained ones replaced (F32), written to a
    /// temporary name and renamed so a reader never sees half a file.</summary>
    private static void WriteModel(string studentDir, string output, ParameterSet parameters)
    {
        string final = Path.Combine(output, Checkpoint.SingleFileName), tmp = final + ".tmp";
        using (var source = Checkpoint.Open(studentDir))
        {
            var replaced = parameters.All.ToDictionary(p => p.Name, p => TensorToWrite.FromFloat32(p.Name, p.Shape, p.Values), StringComparer.Ordinal);
            var metadata = ModelFolderOutput.Metadata(source);
            metadata.TryAdd("format", "pt");
            SafetensorsWriter.Write(tmp, ModelFolderOutput.TensorsWith(source, replaced), metadata);
        }
        File.Move(tmp, final, overwrite: true);
    }
}
