using Encoding = System.Text.Encoding;

namespace NativeTransformer.Tests.Weights;

/// <summary>
/// The tokenizer/spm_* cases of tests/fixtures/hostile (part of <see cref="HostileModelFixtures"/>): malformed
/// sentencepiece .model files, written with a minimal protobuf writer, and malformed Unigram tokenizer.json files,
/// opened with <c>TokenizerLoader.FromDirectory</c>.
/// </summary>
internal static class HostileSentencePieceFixtures
{
    private static byte[] Varint(ulong v)
    {
        var b = new List<byte>();
        do { byte x = (byte)(v & 0x7F); v >>= 7; b.Add(v != 0 ? (byte)(x | 0x80) : x); } while (v != 0);
        return [.. b];
    }

    private static byte[] Field(int field, byte[] payload) => [.. Varint((ulong)(field << 3 | 2)), .. Varint((ulong)payload.Length), .. payload];
    private static byte[] VarintField(int field, long v) => [.. Varint((ulong)(field << 3)), .. Varint((ulong)v)];

    private static byte[] Piece(string text, float score, int type) =>
        Field(1, [.. Field(1, Encoding.UTF8.GetBytes(text)), 0x15, .. BitConverter.GetBytes(score), .. VarintField(3, type)]);

    /// <summary>A valid Unigram model: &lt;unk&gt; &lt;pad&gt; &lt;/s&gt; ▁ a b ▁ab, with optional extra trainer/normalizer specs.</summary>
    public static byte[] Model(byte[]? trainerSpec = null, byte[]? normalizerSpec = null) =>
    [
        .. Piece("<unk>", 0, 2), .. Piece("<pad>", 0, 3), .. Piece("</s>", 0, 3),
        .. Piece("\u2581", -2, 1), .. Piece("a", -3, 1), .. Piece("b", -3, 1), .. Piece("\u2581ab", -1, 1),
        .. Field(2, trainerSpec ?? VarintField(3, 1)),
        .. Field(3, normalizerSpec ?? VarintField(3, 1)),
    ];

    public static void Add(Action<string, string[], (string, byte[])[]> refused)
    {
        var t5Config = ("tokenizer_config.json", Encoding.UTF8.GetBytes("{\"tokenizer_class\":\"T5Tokenizer\",\"pad_token\":\"<pad>\"}"));
        (string, byte[]) Spm(byte[] bytes) => ("spiece.model", bytes);
        var valid = Model();
        refused("spm_model_truncated", ["spiece.model", "corrupt or truncated"], [Spm(valid[..(valid.Length / 2)]), t5Config]);
        refused("spm_model_text", ["spiece.model"], [Spm("this is not a protobuf\n"u8.ToArray()), t5Config]);
        refused("spm_model_no_pieces", ["spiece.model", "no pieces"], [Spm(Field(2, VarintField(3, 1))), t5Config]);
        refused("spm_model_huge_length", ["spiece.model", "past the end"], [Spm([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00]), t5Config]);
        refused("spm_model_bpe", ["spiece.model", "model_type BPE"], [Spm(Model(trainerSpec: VarintField(3, 2))), t5Config]);
        refused("spm_model_unk_out_of_range", ["spiece.model", "unk_id 99"], [Spm(Model(trainerSpec: VarintField(40, 99))), t5Config]);
        refused("spm_model_charsmap_garbage", ["spiece.model", "precompiled_charsmap"],
            [Spm(Model(normalizerSpec: Field(2, [0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3]))), t5Config]);
        refused("spm_model_unknown_class", ["tokenizer_config.json", "tokenizer_class", "BertTokenizer"],
            [Spm(valid), ("tokenizer_config.json", "{\"tokenizer_class\":\"BertTokenizer\"}"u8.ToArray())]);

        (string, byte[]) Json(string model, string normalizer = "null", string pre = "null") => ("tokenizer.json", Encoding.UTF8.GetBytes(
            $"{{\"normalizer\":{normalizer},\"pre_tokenizer\":{pre},\"post_processor\":null,\"model\":{model}}}"));
        const string goodModel = "{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0.0],[\"\\u2581a\",-1.0]]}";
        refused("spm_json_unk_out_of_range", ["tokenizer.json", "unk_id 7 is outside"],
            [Json("{\"type\":\"Unigram\",\"unk_id\":7,\"vocab\":[[\"<unk>\",0.0]]}")]);
        refused("spm_json_vocab_not_pairs", ["tokenizer.json", "vocab entry 1", "[piece, score]"],
            [Json("{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0.0],[\"a\"]]}")]);
        refused("spm_json_vocab_object", ["tokenizer.json", "'vocab' must be an array"],
            [Json("{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":{\"a\":0}}")]);
        refused("spm_json_unknown_normalizer", ["tokenizer.json", "'Nmt'", "Precompiled"], [Json(goodModel, "{\"type\":\"Nmt\"}")]);
        refused("spm_json_unknown_pre_tokenizer", ["tokenizer.json", "'Punctuation'", "Metaspace"], [Json(goodModel, pre: "{\"type\":\"Punctuation\"}")]);
        refused("spm_json_charsmap_garbage", ["tokenizer.json", "precompiled_charsmap"],
            [Json(goodModel, "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"AAAA\"}")]);
        refused("spm_json_charsmap_not_base64", ["tokenizer.json", "base64"],
            [Json(goodModel, "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"@@@@\"}")]);
    }
}
