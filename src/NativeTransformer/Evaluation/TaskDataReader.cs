using System.Globalization;

namespace NativeTransformer.Evaluation;

/// <summary>
/// Reads and validates a task's labelled data. Every reader is strict: fields are split at TAB only (no quote
/// processing: the GLUE and STS files contain lone double quotes), and a malformed row is an
/// <see cref="InputException"/> naming the source and its 1-based line. Lines are numbered from the first line given.
/// <list type="bullet">
/// <item>SST-2 (GLUE <c>dev.tsv</c>): header <c>sentence&lt;TAB&gt;label</c>, then <c>sentence&lt;TAB&gt;0|1</c>.</item>
/// <item>MRPC (GLUE <c>dev.tsv</c>): header <c>Quality&lt;TAB&gt;#1 ID&lt;TAB&gt;#2 ID&lt;TAB&gt;#1 String&lt;TAB&gt;#2 String</c>
/// (a UTF-8 BOM before it is skipped), then 5 fields per row; Quality 1 = paraphrase.</item>
/// <item>STS-B (<c>sts-dev.csv</c>): no header; genre, file, year, id, score (0..5), sentence 1, sentence 2, and on some
/// rows extra source columns, which are ignored.</item>
/// </list>
/// </summary>
public static class TaskDataReader
{
    public const string Sst2Header = "sentence\tlabel";
    public const string MrpcHeader = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String";

    /// <summary>Reads <paramref name="path"/> as the data of <paramref name="task"/>.</summary>
    public static List<TaskExample> ReadFile(EvalTask task, string path) => Read(task, StrictLines.ReadFile(path), path);

    public static List<TaskExample> Read(EvalTask task, IEnumerable<string> lines, string source) => task switch
    {
        EvalTask.Sst2 => ReadSst2(lines, source),
        EvalTask.Mrpc => ReadMrpc(lines, source),
        EvalTask.Stsb => ReadStsb(lines, source),
        _ => throw new ArgumentOutOfRangeException(nameof(task)),
    };

    public static List<TaskExample> ReadSst2(IEnumerable<string> lines, string source)
    {
        var rows = new List<TaskExample>();
        int n = 0;
        foreach (var raw in lines)
        {
            string line = ++n == 1 ? StripBom(raw) : raw;
            if (n == 1)
            {
                if (line != Sst2Header)
                    throw new InputException($"{source}: line 1: expected the header 'sentence<TAB>label', got '{Shorten(line)}'");
                continue;
            }
            int tab = line.IndexOf('\t');
            if (tab < 0 || line.IndexOf('\t', tab + 1) >= 0)
                throw new InputException($"{source}: line {n}: expected 2 tab-separated fields (sentence, label)");
            // GLUE's SST-2 files end every sentence with a space before the tab. It is layout, not text: the references
            // (and HF's GLUE loaders) strip it, and a byte-level BPE or SentencePiece tokenizer would turn it into a token.
            rows.Add(new TaskExample(line[..tab].Trim(' '), null, BinaryLabel(line[(tab + 1)..], source, n), n));
        }
        if (n == 0) throw new InputException($"{source}: empty file; expected the header 'sentence<TAB>label'");
        if (rows.Count == 0) throw new InputException($"{source}: no examples after the header");
        return rows;
    }

    public static List<TaskExample> ReadMrpc(IEnumerable<string> lines, string source)
    {
        var rows = new List<TaskExample>();
        int n = 0;
        foreach (var raw in lines)
        {
            string line = ++n == 1 ? StripBom(raw) : raw;
            if (n == 1)
            {
                if (line != MrpcHeader)
                    throw new InputException($"{source}: line 1: expected the MRPC header 'Quality<TAB>#1 ID<TAB>#2 ID<TAB>#1 String<TAB>#2 String', got '{Shorten(line)}'");
                continue;
            }
            var f = line.Split('\t');
            if (f.Length != 5)
                throw new InputException($"{source}: line {n}: expected 5 tab-separated fields (quality, id 1, id 2, string 1, string 2), got {f.Length}");
            rows.Add(new TaskExample(f[3], f[4], BinaryLabel(f[0], source, n), n));
        }
        if (n == 0) throw new InputException($"{source}: empty file; expected the MRPC header 'Quality<TAB>#1 ID<TAB>...'");
        if (rows.Count == 0) throw new InputException($"{source}: no examples after the header");
        return rows;
    }

    public static List<TaskExample> ReadStsb(IEnumerable<string> lines, string source)
    {
        var rows = new List<TaskExample>();
        int n = 0;
        foreach (var raw in lines)
        {
            string line = ++n == 1 ? StripBom(raw) : raw;
            var f = line.Split('\t');
            if (f.Length < 7)
                throw new InputException($"{source}: line {n}: expected at least 7 tab-separated fields (genre, file, year, id, score, sentence 1, sentence 2), got {f.Length}");
            if (!double.TryParse(f[4], NumberStyles.Float, CultureInfo.InvariantCulture, out double score) || !(score >= 0 && score <= 5))
                throw new InputException($"{source}: line {n}: the score (field 5) must be a number from 0 to 5, got '{Shorten(f[4])}'");
            rows.Add(new TaskExample(f[5], f[6], score, n));
        }
        if (rows.Count == 0) throw new InputException($"{source}: empty file; expected STS-B rows (genre, file, year, id, score, sentence 1, sentence 2)");
        return rows;
    }

    private static int BinaryLabel(string label, string source, int line) => label switch
    {
        "0" => 0,
        "1" => 1,
        _ => throw new InputException($"{source}: line {line}: label must be 0 or 1, got '{Shorten(label)}'"),
    };

    private static string StripBom(string s) => s.Length > 0 && s[0] == '\uFEFF' ? s[1..] : s;

    private static string Shorten(string s)
    {
        s = s.Length > 60 ? s[..60] + "…" : s;
        return s.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');
    }
}
