using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>
/// HOOK: SentencePiece (Unigram) tokenizers — XLM-R, ALBERT, T5 — from tokenizer.json (model.type "Unigram") or a
/// legacy spiece.model / sentencepiece.bpe.model. Not implemented yet; <see cref="TokenizerLoader"/> routes here.
/// </summary>
internal static class SentencePieceLoader
{
    public static ITokenizer FromTokenizerJson(string directory, JsonElement root) =>
        throw new TokenizerException($"{Path.Combine(directory, "tokenizer.json")}: model type 'Unigram' (SentencePiece): Unigram support is being added");

    public static ITokenizer FromSentencePieceModel(string directory, string modelFile) =>
        throw new TokenizerException($"{Path.Combine(directory, modelFile)}: SentencePiece model files: Unigram support is being added");
}
