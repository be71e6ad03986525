namespace NativeTransformer.Tokenization;

/// <summary>
/// A normalized string as a sequence of code points, each aligned to the range [Start, End) of UTF-16
/// code units of the original string it came from (the same idea as HF's NormalizedString alignments).
/// </summary>
internal sealed class NormalizedText
{
    public int[] Chars;
    public int[] Start;
    public int[] End;
    public int Count;

    public NormalizedText(int capacity)
    {
        capacity = Math.Max(capacity, 4);
        Chars = new int[capacity];
        Start = new int[capacity];
        End = new int[capacity];
    }

    public void Add(int cp, int start, int end)
    {
        if (Count == Chars.Length) Grow();
        Chars[Count] = cp;
        Start[Count] = start;
        End[Count] = end;
        Count++;
    }

    private void Grow()
    {
        int n = Chars.Length * 2;
        Array.Resize(ref Chars, n);
        Array.Resize(ref Start, n);
        Array.Resize(ref End, n);
    }

    /// <summary>The code points [from, to) as a .NET string (used by tests and diagnostics).</summary>
    public string ToString(int from, int to)
    {
        var sb = new System.Text.StringBuilder(to - from);
        for (int i = from; i < to; i++) sb.Append(char.ConvertFromUtf32(Chars[i]));
        return sb.ToString();
    }

    public override string ToString() => ToString(0, Count);
}
