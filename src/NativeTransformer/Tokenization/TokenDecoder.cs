using System.Text;

namespace NativeTransformer.Tokenization;

/// <summary>
/// One step of a tokenizer.json "decoder": turns the token strings of a sequence (special tokens already dropped when
/// asked) into text pieces. Steps work on the whole list because several depend on a token's position (Metaspace
/// drops the prefix space of the first token only, WordPiece joins continuation pieces to the previous one) or on its
/// neighbours (ByteFallback and ByteLevel join bytes spread over several tokens). The final text is the pieces
/// concatenated, as in HF's <c>Decoder::decode</c>. Implementations are immutable, so thread-safe.
/// </summary>
internal abstract class TokenDecoder
{
    /// <summary>Rewrites <paramref name="tokens"/> in place (the list may shrink or grow).</summary>
    public abstract void DecodeChain(List<string> tokens);

    /// <summary>The decoded text of <paramref name="tokens"/> (consumed).</summary>
    public string Decode(List<string> tokens)
    {
        DecodeChain(tokens);
        if (tokens.Count == 1) return tokens[0];
        var sb = new StringBuilder();
        foreach (var t in tokens) sb.Append(t);
        return sb.ToString();
    }

    /// <summary>tokenizer.json without a decoder: HF joins the tokens with single spaces.</summary>
    public static readonly TokenDecoder None = new SpaceJoinDecoder();

    private sealed class SpaceJoinDecoder : TokenDecoder
    {
        public override void DecodeChain(List<string> tokens)
        {
            var joined = string.Join(' ', tokens);
            tokens.Clear();
            tokens.Add(joined);
        }
    }
}

/// <summary>
/// Ids to text for any tokenizer: id lookup (added tokens first, as HF's AddedVocabulary takes precedence over the
/// model), the skip of special tokens, then the decoder.
/// </summary>
internal static class TokenDecoding
{
    /// <param name="ids">Token ids, e.g. a model's output or an encoding's ids.</param>
    /// <param name="skipSpecialTokens">Leave out the special tokens.</param>
    /// <param name="idToToken">The token string of a valid id.</param>
    /// <param name="vocabSize">Ids at or above this (or negative) are refused.</param>
    /// <param name="specialTokens">Contents skipped when <paramref name="skipSpecialTokens"/>: HF compares the token
    /// string, not the id, so a vocabulary entry spelled like a special token is skipped too.</param>
    /// <exception cref="InputException">An id is outside the vocabulary. HF's Rust decode silently drops such ids;
    /// a caller that sends one has a bug (or the wrong model), which an error shows and a shorter text hides.</exception>
    /// <param name="decoder">The tokenizer's decoder.</param>
    public static string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens, int vocabSize, Func<int, string> idToToken,
        IReadOnlySet<string> specialTokens, TokenDecoder decoder)
    {
        var tokens = new List<string>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)vocabSize)
                throw new InputException($"token id {id} (position {i}) is outside the vocabulary (ids 0..{vocabSize - 1})");
            string token = idToToken(id);
            if (skipSpecialTokens && specialTokens.Contains(token)) continue;
            tokens.Add(token);
        }
        return tokens.Count == 0 ? "" : decoder.Decode(tokens);
    }
}
