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

    /// <summary>Sentences from one file or from several joined by commas (<c>a.tsv,b.csv</c>), in the order given; a name
    /// that exists as a file is taken whole even if it contains a comma.</summary>
    public static List<TrainingExample> ReadSentenceFiles(string paths)
    {
        if (File.Exists(paths) || !paths.Contains(',')) return ReadSentences(paths);
        var all = new List<TrainingExample>();
        foreach (var p in paths.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) all.AddRange(ReadSentences(p));
        return all;
    }

    /// <summary>A plain text file (one sentence a line), a GLUE TSV with a header (its sentence columns), or the STS benchmark's
    /// headerless sts-*.csv (tab-separated, sentences in fields 6 and 7).</summary>
    public static List<TrainingExample> ReadSentences(string path)
    {
        var lines = StrictLines.ReadFile(path).ToList();
        var examples = new List<TrainingExample>();
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) && lines.Count > 0 && lines[0].Split('\t').Length >= 7)
        {
            for (int n = 0; n < lines.Count; n++)
            {
                var f = lines[n].Split('\t');
                if (f.Length < 7) throw new InputException($"{path}:{n + 1}: an STS benchmark line has at least 7 tab-separated fields, this one {f.Length}");
                foreach (var s in new[] { f[5].Trim(), f[6].Trim() })
                    if (s.Length > 0) examples.Add(new TrainingExample(s, null, null));
            }
        }
        else if (path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) && lines.Count > 0)
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
