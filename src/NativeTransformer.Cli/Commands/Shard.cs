using System.Globalization;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>--shard I/N</c>: run only part I of N of an --input file. The parts are contiguous blocks of records
/// (record r of count goes to part floor(r·N/count)), so the outputs of parts 0..N-1 concatenated in that order are
/// byte for byte the output of one unsharded run: merging is <c>cat</c>. Blocks need the record count, hence a file
/// (counted in a cheap first pass over raw bytes), not stdin.</summary>
internal readonly record struct Shard(int Index, int Count)
{
    public static readonly OptionSpec Option = new("--shard", "I/N",
        "Process only part I of N (0 <= I < N) of --input FILE: a contiguous block of lines; the N outputs concatenated in order equal the unsharded output.");

    /// <summary>The --shard value, null when absent; usage errors name what is wrong.</summary>
    public static Shard? Parse(ParsedArgs a)
    {
        string? v = a.Get("--shard");
        if (v is null) return null;
        int slash = v.IndexOf('/');
        if (slash <= 0 || slash == v.Length - 1
            || !int.TryParse(v.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            || !int.TryParse(v.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new UsageException($"option '--shard' needs I/N with integers 0 <= I < N, got '{v}'", a.Spec.Name);
        if (n <= 0) throw new UsageException($"option '--shard': N must be at least 1, got '{v}'", a.Spec.Name);
        if (i >= n) throw new UsageException($"option '--shard': I must be below N (parts are numbered 0..{n - 1}), got '{v}'", a.Spec.Name);
        string? input = a.Get("--input");
        if (a.Positionals.Count > 0 || input is null or "-")
            throw new UsageException("option '--shard' needs --input FILE (parts are blocks of the file's lines, so it is counted first; stdin cannot be)", a.Spec.Name);
        if (a.Has("--stream"))
            throw new UsageException("options '--shard' and '--stream' exclude each other", a.Spec.Name);
        return new Shard(i, n);
    }

    /// <summary>This part's records [Start, End) of <paramref name="records"/>.</summary>
    public RecordRange RangeOf(long records) => new(records * Index / Count, records * (Index + 1) / Count);

    /// <summary>This part's records of the file at <paramref name="path"/>.</summary>
    public RecordRange RangeOf(string path) => RangeOf(CountLines(path));

    /// <summary>Lines as <see cref="LineReader"/> returns them: one per '\n', plus a last line without one. Counted on
    /// raw bytes, so a badly encoded line in another part does not stop this one.</summary>
    public static long CountLines(string path)
    {
        using var stream = LineReader.OpenFile(path);
        var buf = new byte[1 << 16];
        long lines = 0;
        int n;
        byte last = (byte)'\n';
        while ((n = stream.Read(buf, 0, buf.Length)) > 0)
        {
            lines += buf.AsSpan(0, n).Count((byte)'\n');
            last = buf[n - 1];
        }
        return last == (byte)'\n' ? lines : lines + 1;
    }
}

/// <summary>Records [Start, End) (0-based line indexes) of an input.</summary>
internal readonly record struct RecordRange(long Start, long End);
