using System.Numerics;
using System.Runtime.CompilerServices;

namespace NativeTransformer.Tokenization;

/// <summary>
/// A read-only string -&gt; id table for WordPiece's greedy longest match. Its hash is a polynomial over the chars, so
/// the hashes of every prefix word[s..s+1], word[s..s+2], ... come from one forward pass; trying candidates longest
/// first then costs one probe each (a stored full hash and the length reject almost every miss before any char
/// comparison), instead of hashing the candidate again for each length as a dictionary lookup does.
/// </summary>
internal sealed class PrefixHashTable
{
    private const uint Multiplier = 0x01000193; // FNV prime: odd, so the polynomial hash spreads short keys

    private struct Slot
    {
        public uint Hash;     // Mix(polynomial hash); 0 marks an empty slot (real hashes are forced odd)
        public int Length;
        public int KeyStart;  // into _chars
        public int Id;
    }

    private readonly Slot[] _slots;
    private readonly int _mask;
    private readonly char[] _chars;

    /// <summary>Length of the longest key (no longer candidate can match).</summary>
    public int MaxKeyLength { get; }

    public PrefixHashTable(IReadOnlyCollection<KeyValuePair<string, int>> entries)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, entries.Count * 2));
        _slots = new Slot[size];
        _mask = size - 1;
        long totalChars = 0;
        foreach (var e in entries) totalChars += e.Key.Length;
        _chars = new char[totalChars];
        int at = 0;
        foreach (var (key, id) in entries)
        {
            key.CopyTo(_chars.AsSpan(at));
            uint h = Finish(Hash(key));
            int i = (int)(h & (uint)_mask);
            while (_slots[i].Hash != 0)
            {
                if (_slots[i].Hash == h && _chars.AsSpan(_slots[i].KeyStart, _slots[i].Length).SequenceEqual(key))
                    throw new ArgumentException($"duplicate key '{key}'", nameof(entries));
                i = (i + 1) & _mask;
            }
            _slots[i] = new Slot { Hash = h, Length = key.Length, KeyStart = at, Id = id };
            at += key.Length;
            MaxKeyLength = Math.Max(MaxKeyLength, key.Length);
        }
    }

    /// <summary>The raw polynomial hash of <paramref name="s"/>; <see cref="Extend"/> of it by one char gives the
    /// hash of the string one char longer.</summary>
    public static uint Hash(ReadOnlySpan<char> s)
    {
        uint h = 0;
        foreach (char c in s) h = Extend(h, c);
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Extend(uint h, char c) => (h + c + 1) * Multiplier;

    /// <summary>Final mix of a raw hash (the low bits index the table, so they must depend on every char).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Finish(uint h)
    {
        h ^= h >> 15;
        h *= 0x2C1B3C6D;
        h ^= h >> 12;
        return h | 1;
    }

    /// <summary>Looks <paramref name="key"/> up given its raw hash (<see cref="Hash"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ReadOnlySpan<char> key, uint rawHash, out int id)
    {
        uint h = Finish(rawHash);
        var slots = _slots;
        int i = (int)(h & (uint)_mask);
        while (true)
        {
            ref var slot = ref slots[i];
            if (slot.Hash == h && slot.Length == key.Length && _chars.AsSpan(slot.KeyStart, slot.Length).SequenceEqual(key))
            {
                id = slot.Id;
                return true;
            }
            if (slot.Hash == 0) { id = -1; return false; }
            i = (i + 1) & _mask;
        }
    }
}
