using System.Globalization;
using System.Text.Json;
using NativeTransformer.Tokenization;
using NativeTransformer.Training;
using NativeTransformer.Weights;

namespace NativeTransformer.WeightsTools;

/// <summary>
/// <c>weights-tools gradients --model DIR --input ITEMS.json --loss ce|kd|embedding-mse [--teacher DIR] [--temperature T]
/// [--max-length N] [--threads N] --output OUT.safetensors</c>: one batch's loss and every trainable parameter's gradient.
/// </summary>
public static class GradientsCommand
{
    public const string Usage =
        "usage: weights-tools gradients --model DIR --input ITEMS.json --loss OBJECTIVE [--teacher DIR] [--temperature T] [--dropout P] [--seed N] [--max-length N] [--threads N] --output OUT.safetensors";

    public const string HelpLine =
        "  gradients --model DIR --input ITEMS.json --loss OBJECTIVE [--teacher DIR] [--temperature T] [--dropout P] [--seed N] [--max-length N] [--threads N] --output OUT.safetensors\n" +
        "                Loss and gradient of every trainable parameter on one batch (BERT, DistilBERT, RoBERTa, ALBERT): ITEMS.json is a JSON\n" +
        "                array of {\"text\", \"text_pair\"?, \"label\"?}, tokenized with DIR's tokenizer, right-padded to the longest row\n" +
        "                (--max-length N truncates and reports how many; without it a longer input is refused). OBJECTIVE: comma-separated\n" +
        "                [WEIGHT*]TERM, TERM one of ce (labels), kl or kd (teacher logits / T, times T², T default 2), hidden-mse[(S:T,...)]\n" +
        "                (student hidden state S vs teacher's T; a learned projection when widths differ), embedding-mse, embedding-cosine\n" +
        "                (mean-pooled L2-normalised last hidden states), e.g. 0.5*kl,0.5*ce,hidden-mse. --dropout P: train-mode dropout\n" +
        "                (hidden and attention) with the mask seeded by --seed (default 0; also seeds the projection). Eval mode by default.\n" +
        "                OUT holds 'loss' (F32 scalar, the weighted sum), 'grad.<checkpoint key>' (F32, full shapes) and, with a projection,\n" +
        "                'param.distill.hidden_projection.*' and their 'grad.'; per-term values in the metadata. Same bits for any --threads.\n";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (ToolArgs.TryParse("gradients", args, allowPositional: false,
                ["--model", "--input", "--loss", "--teacher", "--temperature", "--dropout", "--seed", "--max-length", "--threads", "--output"], out var a) is { } error)
            return Fail(stderr, $"{error}\n{Usage}");
        string? model = a.Get("--model"), input = a.Get("--input"), lossText = a.Get("--loss"), teacherDir = a.Get("--teacher"), output = a.Get("--output");
        if (model is null || input is null || lossText is null || output is null)
            return Fail(stderr, $"gradients: --model, --input, --loss and --output are required\n{Usage}");
        double temperature = 2.0;
        if (a.Get("--temperature") is { } tText &&
            (!double.TryParse(tText, NumberStyles.Float, CultureInfo.InvariantCulture, out temperature) || !(temperature > 0) || double.IsInfinity(temperature)))
            return Fail(stderr, $"gradients: --temperature must be a positive number, got '{tText}'");
        TrainingObjective objective;
        try { objective = TrainingObjective.Parse(lossText, temperature); }
        catch (InputException e) { return Fail(stderr, $"gradients: --loss must be an objective such as ce, kd, embedding-mse or 0.5*kl,0.5*ce,hidden-mse: {e.Message}"); }
        if (objective.NeedsTeacher && teacherDir is null) return Fail(stderr, $"gradients: --loss {lossText} needs --teacher DIR");
        if (!objective.NeedsTeacher && teacherDir is not null) return Fail(stderr, $"gradients: --loss {lossText} takes no --teacher");
        double dropoutRate = 0;
        if (a.Get("--dropout") is { } dText &&
            (!double.TryParse(dText, NumberStyles.Float, CultureInfo.InvariantCulture, out dropoutRate) || !(dropoutRate >= 0 && dropoutRate < 1)))
            return Fail(stderr, $"gradients: --dropout must be a probability in [0, 1), got '{dText}'");
        int seed = 0;
        if (a.Get("--seed") is { } sText && !int.TryParse(sText, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
            return Fail(stderr, $"gradients: --seed must be a non-negative integer, got '{sText}'");
        int? maxLength = null;
        if (a.Get("--max-length") is { } mText)
        {
            if (!int.TryParse(mText, NumberStyles.None, CultureInfo.InvariantCulture, out int m) || m < 2)
                return Fail(stderr, $"gradients: --max-length must be an integer of at least 2, got '{mText}'");
            maxLength = m;
        }
        int threads = Environment.ProcessorCount;
        if (a.Get("--threads") is { } thText && (!int.TryParse(thText, NumberStyles.None, CultureInfo.InvariantCulture, out threads) || threads < 1 || threads > 1024))
            return Fail(stderr, $"gradients: --threads must be an integer from 1 to 1024, got '{thText}'");

        var items = ReadItems(input);
        var student = BertTrainingModel.Load(model);
        var teacher = teacherDir is null ? null : BertTrainingModel.Load(teacherDir);
        var tokenizer = TokenizerLoader.FromDirectory(model);
        if (teacher is not null && teacher.Config.VocabSize != student.Config.VocabSize)
            throw new InputException($"the teacher's vocabulary ({teacher.Config.VocabSize} ids) differs from the student's ({student.Config.VocabSize}); they must share a tokenizer");
        int limit = Math.Min(maxLength ?? student.Config.MaxSequenceLength, student.Config.MaxSequenceLength);
        if (teacher is not null) limit = Math.Min(limit, teacher.Config.MaxSequenceLength);
        var encoded = tokenizer.EncodeBatch(items.Select(i => (i.Text, i.TextPair)).ToList(), limit);
        // Never truncate silently: without --max-length an input longer than the model's positions is refused;
        // with it, the number of truncated items is reported.
        int truncated = encoded.Rows.Count(r => r.Truncated);
        if (maxLength is null && truncated > 0)
            throw new InputException($"{input}: item {Array.FindIndex(encoded.Rows, r => r.Truncated)} is longer than the model's {limit} positions; pass --max-length N to truncate");
        int[]? labels = items.All(i => i.Label is not null) ? items.Select(i => i.Label!.Value).ToArray() : null;
        if (objective.NeedsLabels && labels is null) throw new InputException($"{input}: --loss {lossText} needs a \"label\" on every item");
        var batch = TrainingBatch.From(encoded, labels);

        var projection = objective.CreateParameters(student, teacher, seed);
        var dropout = dropoutRate > 0 ? new DropoutOptions(dropoutRate, dropoutRate, (ulong)seed) : null;
        var result = GradientComputation.Compute(student, batch, objective, teacher, projection, threads, dropout);
        if (!double.IsFinite(result.Loss)) throw new NativeTransformerException($"gradients: the loss is not finite ({result.Loss})");
        var tensors = new List<TensorToWrite> { TensorToWrite.FromFloat32("loss", [], [(float)result.Loss]) };
        foreach (var g in result.Gradients.All) tensors.Add(TensorToWrite.FromFloat32("grad." + g.Name, g.Shape, g.Values));
        foreach (var p in projection.All) tensors.Add(TensorToWrite.FromFloat32("param." + p.Name, p.Shape, p.Values));
        foreach (var g in result.ObjectiveGradients.All) tensors.Add(TensorToWrite.FromFloat32("grad." + g.Name, g.Shape, g.Values));
        var metadata = new Dictionary<string, string>
        {
            ["loss"] = lossText, ["model"] = Path.GetFullPath(model), ["items"] = items.Count.ToString(CultureInfo.InvariantCulture),
            ["seq_len"] = batch.Seq.ToString(CultureInfo.InvariantCulture),
        };
        if (objective.Terms.Count > 1)
            foreach (var (term, value) in result.Terms) metadata["loss." + term] = value.ToString("R", CultureInfo.InvariantCulture);
        if (dropout is not null) { metadata["dropout"] = dropoutRate.ToString("R", CultureInfo.InvariantCulture); metadata["seed"] = seed.ToString(CultureInfo.InvariantCulture); }
        SafetensorsWriter.Write(output, tensors, metadata);
        stdout.WriteLine($"gradients: loss {lossText} = {result.Loss.ToString("R", CultureInfo.InvariantCulture)}{TermsText(result)} on {items.Count} items " +
                         $"(padded to {batch.Seq} tokens{(truncated > 0 ? $", {truncated} truncated by --max-length" : "")}); {result.Gradients.All.Count} gradient tensors -> {Path.GetFullPath(output)}");
        return 0;
    }

    private static string TermsText(ObjectiveResult r) => r.Terms.Count < 2 ? ""
        : " (" + string.Join(", ", r.Terms.Select(t => $"{t.Term} {t.Value.ToString("R", CultureInfo.InvariantCulture)}")) + ")";

    internal sealed record Item(string Text, string? TextPair, int? Label);

    /// <summary>Reads ITEMS.json (a non-empty array of objects with a string "text", optional string "text_pair", optional integer "label").</summary>
    internal static List<Item> ReadItems(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InputException($"{path}: not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new InputException($"{path}: expected a JSON array of items");
            var items = new List<Item>();
            foreach (var el in doc.RootElement.EnumerateArray())
            {
                int n = items.Count;
                if (el.ValueKind != JsonValueKind.Object) throw new InputException($"{path}: item {n} is not an object");
                string? text = null, pair = null; int? label = null;
                foreach (var prop in el.EnumerateObject())
                {
                    switch (prop.Name)
                    {
                        case "text" when prop.Value.ValueKind == JsonValueKind.String: text = prop.Value.GetString(); break;
                        case "text_pair" when prop.Value.ValueKind == JsonValueKind.String: pair = prop.Value.GetString(); break;
                        case "text_pair" when prop.Value.ValueKind == JsonValueKind.Null: break;
                        case "label" when prop.Value.ValueKind == JsonValueKind.Number && prop.Value.TryGetInt32(out int l) && l >= 0: label = l; break;
                        case "text" or "text_pair" or "label":
                            throw new InputException($"{path}: item {n}: \"{prop.Name}\" has the wrong type (text and text_pair are strings, label a non-negative integer)");
                        default: throw new InputException($"{path}: item {n}: unknown field \"{prop.Name}\"");
                    }
                }
                if (text is null) throw new InputException($"{path}: item {n} has no \"text\"");
                items.Add(new Item(text, pair, label));
            }
            if (items.Count == 0) throw new InputException($"{path}: the item list is empty");
            return items;
        }
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message);
        return 2;
    }
}
