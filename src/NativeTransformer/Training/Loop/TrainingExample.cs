using NativeTransformer.Evaluation;

namespace NativeTransformer.Training.Loop;

/// <summary>One training item: text, optional pair, optional class label.</summary>
public sealed record TrainingExample(string Text, string? TextPair, int? Label);

/// <summary>Reads training data: SST-2 TSV (sentence, label) for classification; for sentence embeddings a plain text
/// file (one sentence a line) or a GLUE TSV whose sentence columns are taken.</summary>
public static class TrainingData
{
    private static readonly string[] SentenceColumns = ["sentence", "sentence1", "sentence2", "question", "question1", "question2", "#1 String", "#2 String"];

    public static List<TrainingExample> ReadSst2(string path) =>
        TaskDataReader.ReadFile(EvalTask.Sst2, path).Select(e => new TrainingExample(e.Text, null, (int)e.Label)).ToList();

    public static List<TrainingExample> ReadSentences(string path)
    {
        var lines = StrictLines.ReadFile(path).ToList();
        var examples = new List<TrainingExample>();
        if (path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) && lines.Count > 0)
        {
            var header = lines[0].TrimStart('\uFEFF').Split('\t');
            var cols = Enumerable.Range(0, header.Length).Where(i => SentenceColumns.Contains(header[i])).ToArray();
            if (cols.Length == 0) throw new InputException($"{path}: a TSV needs a sentence column ({string.Join(", ", SentenceColumns)}); the header is '{lines[0]}'");
            for (int n = 1; n < lines.Count; n++)
            {
                var fields = lines[n].Split('\t');
                foreach (int c in cols)
                    if (c < fields.Length && fields[c].Trim() is { Length: > 0 } s) examples.Add(new TrainingExample(s, null, null));
            }
        }
        else
        {
            foreach (var line in lines)
                if (line.Trim() is { Length: > 0 } s) examples.Add(new TrainingExample(s, null, null));
        }
        if (examples.Count == 0) throw new InputException($"{path}: no sentences to train on");
        return examples;
    }
}
