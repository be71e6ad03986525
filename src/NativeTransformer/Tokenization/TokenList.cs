namespace NativeTransformer.Tokenization;

/// <summary>A growable list of tokens (id, string, original offsets) for one segment.</summary>
internal sealed class TokenList
{
    public readonly List<int> Ids = new();
    public readonly List<string> Tokens = new();
    public readonly List<(int Start, int End)> Offsets = new();

    public int Count => Ids.Count;

    public void Add(int id, string token, int start, int end)
    {
        Ids.Add(id);
        Tokens.Add(token);
        Offsets.Add((start, end));
    }

    public void Clear()
    {
        Ids.Clear();
        Tokens.Clear();
        Offsets.Clear();
    }

    /// <summary>Keeps the first <paramref name="count"/> tokens.</summary>
    public void Truncate(int count)
    {
        if (count >= Count) return;
        Ids.RemoveRange(count, Count - count);
        Tokens.RemoveRange(count, Tokens.Count - count);
        Offsets.RemoveRange(count, Offsets.Count - count);
    }
}
