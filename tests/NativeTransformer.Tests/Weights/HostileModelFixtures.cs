using Encoding = System.Text.Encoding;
using NativeTransformer.Models;
using NativeTransformer.Tokenization;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>How a hostile case is opened.</summary>
internal enum HostileLoader
{
    /// <summary><c>ModelConfig.Load(file)</c>.</summary>
    Config,
    /// <summary><c>WordPieceTokenizer.FromDirectory(folder)</c>.</summary>
    Tokenizer,
    /// <summary><c>TransformerModel.Load(folder)</c>.</summary>
    Model,
    /// <summary><c>Checkpoint.Open(folder)</c>.</summary>
    Checkpoint,
    /// <summary><c>TokenizerLoader.FromDirectory(folder)</c> (every tokenizer family).</summary>
    AnyTokenizer,
}

/// <summary>One hostile case: a file or folder under tests/fixtures/hostile, how to open it, the exception type it must
/// raise (null: documented as accepted) and the fragments its message must contain besides the path.</summary>
internal sealed record HostileCase(string Path, HostileLoader Loader, Type? Expected, params string[] MessageParts)
{
    public override string ToString() => Path;
}

/// <summary>
/// The deterministic generator of the config.json, tokenizer, model-folder and shard-folder cases of
/// tests/fixtures/hostile (the safetensors-header cases are in <see cref="HostileFixtures"/>). Every file is built
/// here byte for byte; <see cref="HostileModelFixtureTests"/> checks the committed copies against it.
/// Regenerate with <c>NT_REGENERATE_HOSTILE=1 dotnet test --filter Hostile</c>.
/// </summary>
internal static class HostileModelFixtures
{
    public static IReadOnlyList<(string Path, byte[] Bytes)> Files { get; }
    public static IReadOnlyList<HostileCase> Cases { get; }

    static HostileModelFixtures()
    {
        var files = new List<(string, byte[])>();
        var cases = new List<HostileCase>();
        AddConfigs(files, cases);
        AddTokenizers(files, cases);
        AddByteLevelBpe(files, cases);
        AddModels(files, cases);
        AddShards(files, cases);
        Files = files;
        Cases = cases;
    }

    // ---- config.json --------------------------------------------------------------------------------------------

    private static readonly (string Key, string Json)[] BaseConfig =
    [
        ("model_type", "\"bert\""), ("vocab_size", "30522"), ("hidden_size", "768"), ("num_hidden_layers", "12"),
        ("num_attention_heads", "12"), ("intermediate_size", "3072"), ("max_position_embeddings", "512"), ("type_vocab_size", "2"),
    ];

    /// <summary>The base BERT config with <paramref name="changes"/> applied: a key set to raw JSON, or removed when null.</summary>
    private static string ConfigJson(params (string Key, string? Json)[] changes)
    {
        var entries = BaseConfig.Select(e => (e.Key, (string?)e.Json)).ToList();
        foreach (var (key, json) in changes)
        {
            int i = entries.FindIndex(e => e.Key == key);
            if (i >= 0) entries[i] = (key, json);
            else entries.Add((key, json));
        }
        return "{" + string.Join(",", entries.Where(e => e.Item2 != null).Select(e => $"\"{e.Key}\":{e.Item2}")) + "}";
    }

    private static void AddConfigs(List<(string, byte[])> files, List<HostileCase> cases)
    {
        void Config(string name, string json, params string[] parts) => ConfigBytes(name, Encoding.UTF8.GetBytes(json), parts);
        void ConfigBytes(string name, byte[] bytes, params string[] parts)
        {
            string path = $"config/{name}.json";
            files.Add((path, bytes));
            cases.Add(new HostileCase(path, HostileLoader.Config, typeof(ModelConfigException), parts));
        }

        Config("not_json", "{\"model_type\":\"bert\",\"hidden_size\":}", "not valid JSON");
        Config("not_object", "[\"bert\", 768]", "not valid JSON");
        Config("null", "null", "is null");
        ConfigBytes("not_utf8", Encoding.UTF8.GetBytes(ConfigJson(("architectures", "[\"Bert\u00e9\"]"))).Select(b => b == 0xC3 ? (byte)0xFF : b).ToArray(), "not valid UTF-8");
        Config("nested_too_deep", ConfigJson(("task_specific_params", new string('[', 200) + new string(']', 200))), "not valid JSON");
        Config("unknown_model_type", ConfigJson(("model_type", "\"gpt2\"")), "model_type", "gpt2");
        Config("missing_model_type", ConfigJson(("model_type", null)), "model_type");
        Config("missing_hidden_size", ConfigJson(("hidden_size", null)), "hidden_size", "missing");
        Config("hidden_size_string", ConfigJson(("hidden_size", "\"768\"")), "hidden_size");
        Config("hidden_size_fraction", ConfigJson(("hidden_size", "768.5")), "hidden_size");
        Config("hidden_size_zero", ConfigJson(("hidden_size", "0")), "hidden_size", "positive");
        Config("layers_negative", ConfigJson(("num_hidden_layers", "-1")), "num_hidden_layers", "positive");
        Config("hidden_size_1e9", ConfigJson(("hidden_size", "1000000000"), ("num_attention_heads", "1")), "absurdly large");
        Config("layers_1e6", ConfigJson(("num_hidden_layers", "1000000")), "num_hidden_layers", "absurdly large");
        Config("vocab_size_1e12", ConfigJson(("vocab_size", "1000000000000")), "vocab_size");
        Config("vocab_size_int_max", ConfigJson(("vocab_size", "2147483647")), "vocab_size", "absurdly large");
        Config("intermediate_overflow", ConfigJson(("intermediate_size", "2147483647")), "intermediate", "absurdly large");
        Config("heads_not_dividing", ConfigJson(("num_attention_heads", "7")), "not divisible");
        Config("max_positions_absurd", ConfigJson(("max_position_embeddings", "2000000000")), "max_position_embeddings", "absurdly large");
        Config("type_vocab_absurd", ConfigJson(("type_vocab_size", "100000000")), "type_vocab_size", "absurdly large");
        Config("layer_norm_eps_negative", ConfigJson(("layer_norm_eps", "-1e-12")), "layer_norm_eps");
        Config("activation_unknown", ConfigJson(("hidden_act", "\"swish\"")), "activation", "swish");
        Config("pruned_heads_out_of_range", ConfigJson(("pruned_heads", "{\"0\":[12]}")), "pruned_heads", "head 12");
        Config("pruned_heads_bad_layer", ConfigJson(("pruned_heads", "{\"-1\":[0]}")), "pruned_heads", "\"-1\"");
        Config("pruned_heads_not_list", ConfigJson(("pruned_heads", "{\"0\":\"all\"}")), "pruned_heads");
        Config("pruned_heads_all", ConfigJson(("pruned_heads", "{\"0\":[0,1,2,3,4,5,6,7,8,9,10,11]}")), "pruned_heads", "at least one must remain");
        Config("id2label_bad_key", ConfigJson(("id2label", "{\"neg\":\"negative\"}")), "id2label", "\"neg\"");
        Config("id2label_signed_key", ConfigJson(("id2label", "{\"+1\":\"positive\"}")), "id2label", "\"+1\"");
        Config("id2label_same_label_twice", ConfigJson(("id2label", "{\"1\":\"a\",\"01\":\"b\"}")), "id2label", "twice");
        Config("id2label_not_object", ConfigJson(("id2label", "[\"negative\",\"positive\"]")), "id2label");
        Config("id2label_value_not_string", ConfigJson(("id2label", "{\"0\":7}")), "id2label");
        // RoBERTa counts positions from pad_token_id + 1, so the pad id indexes the position table.
        (string, string?) Roberta = ("model_type", "\"roberta\""), Positions514 = ("max_position_embeddings", "514");
        Config("roberta_pad_negative", ConfigJson(Roberta, Positions514, ("pad_token_id", "-1")), "pad_token_id", "-1");
        Config("roberta_pad_beyond_vocab", ConfigJson(Roberta, Positions514, ("pad_token_id", "30522")), "pad_token_id", "30522");
        Config("roberta_no_position_after_pad", ConfigJson(Roberta, ("max_position_embeddings", "2"), ("pad_token_id", "1")), "max_position_embeddings", "pad_token_id");
        Config("roberta_type_vocab_zero", ConfigJson(Roberta, Positions514, ("pad_token_id", "1"), ("type_vocab_size", "0")), "type_vocab_size", "positive");
        // MobileBERT: attention runs at intra_bottleneck_size; its block options are validated naming the key.
        (string, string?) Mobile = ("model_type", "\"mobilebert\""), Heads4 = ("num_attention_heads", "4");
        Config("mobilebert_intra_not_dividing", ConfigJson(Mobile, Heads4, ("intra_bottleneck_size", "30")), "intra_bottleneck_size", "not divisible");
        Config("mobilebert_intra_zero", ConfigJson(Mobile, Heads4, ("intra_bottleneck_size", "0")), "intra_bottleneck_size", "positive");
        Config("mobilebert_ffns_zero", ConfigJson(Mobile, Heads4, ("num_feedforward_networks", "0")), "num_feedforward_networks", "at least 1");
        Config("mobilebert_ffns_absurd", ConfigJson(Mobile, Heads4, ("num_feedforward_networks", "1000000")), "num_feedforward_networks", "absurdly large");
        Config("mobilebert_normalization_unknown", ConfigJson(Mobile, Heads4, ("normalization_type", "\"batch_norm\"")), "normalization_type", "batch_norm");
        Config("mobilebert_qk_without_bottleneck", ConfigJson(Mobile, Heads4, ("key_query_shared_bottleneck", "false"), ("use_bottleneck_attention", "false")),
            "key_query_shared_bottleneck", "use_bottleneck_attention");
        Config("mobilebert_pad_beyond_vocab", ConfigJson(Mobile, Heads4, ("pad_token_id", "30522")), "pad_token_id", "30522");
        Config("mobilebert_trigram_not_bool", ConfigJson(Mobile, Heads4, ("trigram_input", "\"yes\"")), "not valid JSON");
    }

    // ---- tokenizer files ------------------------------------------------------------------------------------------

    private static readonly string[] BaseVocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s"];

    private static byte[] Lines(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");

    private static void AddTokenizers(List<(string, byte[])> files, List<HostileCase> cases)
    {
        void Folder(string name, Type? expected, string[] parts, params (string File, byte[] Bytes)[] content)
        {
            foreach (var (file, bytes) in content) files.Add(($"tokenizer/{name}/{file}", bytes));
            cases.Add(new HostileCase($"tokenizer/{name}", HostileLoader.Tokenizer, expected, parts));
        }
        void Refused(string name, string[] parts, params (string, byte[])[] content) => Folder(name, typeof(TokenizerException), parts, content);
        (string, byte[]) Vocab(params string[] lines) => ("vocab.txt", Lines(lines));
        (string, byte[]) Json(string file, string json) => (file, Encoding.UTF8.GetBytes(json));
        var vocab = Vocab(BaseVocab);

        Refused("vocab_empty", ["vocab.txt", "empty"], ("vocab.txt", []));
        Refused("vocab_not_utf8", ["vocab.txt"], ("vocab.txt", [.. Lines(BaseVocab), 0xC3, 0x28, (byte)'\n']));
        Refused("vocab_missing_unk", ["vocab.txt", "unk_token", "[UNK]"], Vocab([.. BaseVocab.Where(t => t != "[UNK]")]));
        Refused("vocab_missing_cls", ["vocab.txt", "cls_token", "[CLS]"], Vocab([.. BaseVocab.Where(t => t != "[CLS]")]));
        Refused("vocab_missing_sep", ["vocab.txt", "sep_token", "[SEP]"], Vocab([.. BaseVocab.Where(t => t != "[SEP]")]));
        Refused("vocab_missing_pad", ["vocab.txt", "pad_token", "[PAD]"], Vocab([.. BaseVocab.Where(t => t != "[PAD]")]));
        Refused("vocab_duplicate_special", ["vocab.txt", "cls_token", "more than one line"], Vocab([.. BaseVocab, "[CLS]"]));
        Refused("tokenizer_json_not_json", ["tokenizer.json", "not valid JSON"], vocab, Json("tokenizer.json", "{\"model\": {\"type\": \"WordPiece\",}"));
        Refused("tokenizer_json_not_object", ["tokenizer.json", "JSON object"], vocab, Json("tokenizer.json", "[\"WordPiece\"]"));
        Refused("tokenizer_json_not_utf8", ["tokenizer.json", "UTF-8"], vocab, ("tokenizer.json", [.. "{\"model\":{\"type\":\"Word"u8, 0xFF, .. "Piece\"}}"u8]));
        Refused("tokenizer_json_nested_too_deep", ["tokenizer.json", "not valid JSON"], vocab,
            Json("tokenizer.json", "{\"x\":" + new string('[', 100) + new string(']', 100) + "}"));
        Refused("tokenizer_json_bpe_model", ["tokenizer.json", "model type", "BPE"], vocab, Json("tokenizer.json", "{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}"));
        Refused("tokenizer_json_unigram_model", ["tokenizer.json", "model type", "Unigram"], vocab, Json("tokenizer.json", "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}"));
        Refused("added_token_negative_id", ["tokenizer.json", "added token", "-1"], vocab,
            Json("tokenizer.json", "{\"added_tokens\":[{\"id\":-1,\"content\":\"[NEW]\"}]}"));
        Refused("added_token_huge_id", ["tokenizer.json", "added token", "2147483647"], vocab,
            Json("tokenizer.json", "{\"added_tokens\":[{\"id\":2147483647,\"content\":\"[NEW]\"}]}"));
        Refused("added_token_gap", ["tokenizer.json", "added token", "1000"], vocab,
            Json("tokenizer.json", "{\"added_tokens\":[{\"id\":1000,\"content\":\"[NEW]\"}]}"));
        Refused("added_token_id_taken", ["vocab.txt", "[NEW]", "hello"], vocab,
            Json("tokenizer.json", "{\"added_tokens\":[{\"id\":5,\"content\":\"[NEW]\"}]}"));
        Refused("added_token_id_not_integer", ["tokenizer.json", "added_tokens"], vocab,
            Json("tokenizer.json", "{\"added_tokens\":[{\"id\":\"5\",\"content\":\"[NEW]\"}]}"));
        Refused("max_input_chars_negative", ["tokenizer.json", "max_input_chars_per_word"], vocab,
            Json("tokenizer.json", "{\"model\":{\"type\":\"WordPiece\",\"max_input_chars_per_word\":-1}}"));
        Refused("tokenizer_config_not_json", ["tokenizer_config.json", "not valid JSON"], vocab, Json("tokenizer_config.json", "do_lower_case: true"));
        Refused("tokenizer_config_bad_special", ["tokenizer_config.json", "unk_token"], vocab, Json("tokenizer_config.json", "{\"unk_token\":5}"));
        Refused("tokenizer_config_unk_not_in_vocab", ["vocab.txt", "unk_token", "<unk>"], vocab, Json("tokenizer_config.json", "{\"unk_token\":\"<unk>\"}"));
        Refused("special_tokens_map_not_object", ["special_tokens_map.json", "JSON object"], vocab, Json("special_tokens_map.json", "\"[CLS]\""));

        // Documented as accepted (HF-compatible): see tests/fixtures/hostile/README.md.
        Folder("vocab_duplicate_token", null, [], Vocab([.. BaseVocab, "hello"]));
        Folder("vocab_bom", null, [], ("vocab.txt", [0xEF, 0xBB, 0xBF, .. Lines(BaseVocab)]));
        Folder("vocab_long_line", null, [], Vocab([.. BaseVocab, new string('x', 3000)]));

        HostileSentencePieceFixtures.Add((name, parts, content) =>
        {
            foreach (var (file, bytes) in content) files.Add(($"tokenizer/{name}/{file}", bytes));
            cases.Add(new HostileCase($"tokenizer/{name}", HostileLoader.AnyTokenizer, typeof(TokenizerException), parts));
        });
    }

    // ---- byte-level BPE tokenizer files ----------------------------------------------------------------------------

    /// <summary>vocab.json of the 256 byte tokens, RoBERTa's specials and "Ġt"; <paramref name="drop"/> leaves one out.</summary>
    private static string ByteVocabJson(string? drop = null)
    {
        var tokens = new List<string> { "<s>", "<pad>", "</s>", "<unk>" };
        foreach (char c in ByteLevel.ByteToChar) tokens.Add(c.ToString());
        tokens.Add("\u0120t");
        tokens.Add("<mask>");
        var sb = new System.Text.StringBuilder("{");
        int id = 0;
        foreach (var t in tokens)
        {
            if (t == drop) continue;
            if (sb.Length > 1) sb.Append(',');
            sb.Append('"').Append(System.Text.Json.JsonEncodedText.Encode(t, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString()).Append("\":").Append(id++);
        }
        return sb.Append('}').ToString();
    }

    private static void AddByteLevelBpe(List<(string, byte[])> files, List<HostileCase> cases)
    {
        void Refused(string name, string[] parts, params (string File, byte[] Bytes)[] content)
        {
            foreach (var (file, bytes) in content) files.Add(($"tokenizer-bpe/{name}/{file}", bytes));
            cases.Add(new HostileCase($"tokenizer-bpe/{name}", HostileLoader.AnyTokenizer, typeof(TokenizerException), parts));
        }
        (string, byte[]) F(string file, string text) => (file, Encoding.UTF8.GetBytes(text));
        var vocab = F("vocab.json", ByteVocabJson());
        var merges = F("merges.txt", "#version: 0.2\n\u0120 t\n");
        string Tj(string normalizer = "null", string pre = "{\"type\":\"ByteLevel\",\"add_prefix_space\":false}", string model = "BPE",
            string post = "{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",2],\"cls\":[\"<s>\",0]}", string decoder = "{\"type\":\"ByteLevel\"}",
            string merge = "\"\u0120 t\"", string added = "") =>
            $"{{\"added_tokens\":[{added}],\"normalizer\":{normalizer},\"pre_tokenizer\":{pre},\"post_processor\":{post},\"decoder\":{decoder}," +
            $"\"model\":{{\"type\":\"{model}\",\"vocab\":{ByteVocabJson()},\"merges\":[{merge}]}}}}";

        Refused("vocab_json_not_object", ["vocab.json", "JSON object"], F("vocab.json", "[\"<s>\", \"</s>\"]"), merges);
        Refused("vocab_json_id_not_integer", ["vocab.json", "integer"], F("vocab.json", "{\"<s>\": \"zero\"}"), merges);
        Refused("vocab_json_id_out_of_range", ["vocab.json", "ids must be"], F("vocab.json", ByteVocabJson().Replace("\"<mask>\":261", "\"<mask>\":100000")), merges);
        Refused("vocab_json_missing_byte", ["vocab.json", "byte token"], F("vocab.json", ByteVocabJson(drop: "\u0120")), merges);
        Refused("merges_line_three_tokens", ["merges.txt", "two tokens"], vocab, F("merges.txt", "#version: 0.2\n\u0120 t x\n"));
        Refused("merges_line_one_token", ["merges.txt", "two tokens"], vocab, F("merges.txt", "#version: 0.2\n\u0120t\n"));
        Refused("merges_outside_vocab", ["merges.txt", "outside the vocabulary"], vocab, F("merges.txt", "#version: 0.2\nt h\n"));
        Refused("merges_not_utf8", ["merges.txt", "UTF-8"], vocab, ("merges.txt", [.. "#version: 0.2\n"u8, 0xC3, 0x28, (byte)'\n']));
        Refused("merges_missing", ["merges.txt"], vocab);
        Refused("tokenizer_json_unknown_normalizer", ["tokenizer.json", "normalizer", "Frobnicate", "supported"], F("tokenizer.json", Tj(normalizer: "{\"type\":\"Frobnicate\"}")));
        Refused("tokenizer_json_unknown_pre_tokenizer", ["tokenizer.json", "pre_tokenizer", "Whirl", "ByteLevel"], F("tokenizer.json", Tj(pre: "{\"type\":\"Whirl\"}")));
        Refused("tokenizer_json_unknown_model", ["tokenizer.json", "model type", "Mystery", "WordPiece"], F("tokenizer.json", Tj(model: "Mystery")));
        Refused("tokenizer_json_unknown_post_processor", ["tokenizer.json", "post_processor", "Glue", "RobertaProcessing"], F("tokenizer.json", Tj(post: "{\"type\":\"Glue\"}")));
        Refused("tokenizer_json_unknown_decoder", ["tokenizer.json", "decoder", "Unzip", "ByteLevel"], F("tokenizer.json", Tj(decoder: "{\"type\":\"Unzip\"}")));
        Refused("tokenizer_json_merge_outside_vocab", ["tokenizer.json", "outside the vocabulary"], F("tokenizer.json", Tj(merge: "\"t h\"")));
        Refused("tokenizer_json_merge_malformed", ["tokenizer.json", "merges"], F("tokenizer.json", Tj(merge: "5")));
        Refused("tokenizer_json_added_token_id_taken", ["tokenizer.json", "added token", "[NEW]"],
            F("tokenizer.json", Tj(added: "{\"id\":5,\"content\":\"[NEW]\"}")));
        Refused("tokenizer_json_added_token_huge_id", ["added token", "2147483647"],
            F("tokenizer.json", Tj(added: "{\"id\":2147483647,\"content\":\"[NEW]\"}")));
        Refused("tokenizer_json_post_processor_id_outside", ["post_processor", "outside the vocabulary"],
            F("tokenizer.json", Tj(post: "{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",999999],\"cls\":[\"<s>\",0]}")));
    }

    // ---- model folders: vocabulary vs config, NaN/Inf weights -----------------------------------------------------

    /// <summary>A 1-layer BERT: vocab 8, hidden 4, 1 head, intermediate 4, 8 positions.</summary>
    public const string TinyConfig = "{\"model_type\":\"bert\",\"vocab_size\":8,\"hidden_size\":4,\"num_hidden_layers\":1,\"num_attention_heads\":1," +
        "\"intermediate_size\":4,\"max_position_embeddings\":8,\"type_vocab_size\":2}";

    /// <summary>The tiny model's tensors with deterministic small values; <paramref name="poison"/> (key, flat index, value) plants one bad value.</summary>
    public static byte[] TinyWeights(string? poisonKey = null, int poisonIndex = 0, float poisonValue = float.NaN, bool f16 = false)
    {
        var shapes = new List<(string Key, long[] Shape)>
        {
            ("embeddings.word_embeddings.weight", [8, 4]), ("embeddings.position_embeddings.weight", [8, 4]),
            ("embeddings.token_type_embeddings.weight", [2, 4]), ("embeddings.LayerNorm.weight", [4]), ("embeddings.LayerNorm.bias", [4]),
        };
        foreach (var linear in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense" })
        {
            shapes.Add(($"encoder.layer.0.{linear}.weight", [4, 4]));
            shapes.Add(($"encoder.layer.0.{linear}.bias", [4]));
        }
        foreach (var norm in new[] { "attention.output.LayerNorm", "output.LayerNorm" })
        {
            shapes.Add(($"encoder.layer.0.{norm}.weight", [4]));
            shapes.Add(($"encoder.layer.0.{norm}.bias", [4]));
        }
        int seed = 0;
        var tensors = new List<TensorToWrite>();
        foreach (var (key, shape) in shapes)
        {
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < values.Length; i++) values[i] = ((seed++ * 37) % 17 - 8) / 16f;
            if (key.EndsWith("LayerNorm.weight", StringComparison.Ordinal)) Array.Fill(values, 1f);
            if (key == poisonKey) values[poisonIndex] = poisonValue;
            tensors.Add(f16 ? TensorToWrite.FromFloat16(key, shape, values.Select(v => (Half)v).ToArray()) : TensorToWrite.FromFloat32(key, shape, values));
        }
        return WriteToBytes(tensors);
    }

    private static byte[] WriteToBytes(IEnumerable<TensorToWrite> tensors)
    {
        string tmp = System.IO.Path.GetTempFileName();
        try
        {
            SafetensorsWriter.Write(tmp, tensors);
            return System.IO.File.ReadAllBytes(tmp);
        }
        finally { System.IO.File.Delete(tmp); }
    }

    private static void AddModels(List<(string, byte[])> files, List<HostileCase> cases)
    {
        void Model(string name, Type? expected, string[] parts, byte[]? weights, string config = TinyConfig, string[]? vocab = null)
        {
            files.Add(($"model/{name}/config.json", Encoding.UTF8.GetBytes(config)));
            files.Add(($"model/{name}/vocab.txt", Lines(vocab ?? BaseVocab)));
            if (weights != null) files.Add(($"model/{name}/model.safetensors", weights));
            cases.Add(new HostileCase($"model/{name}", HostileLoader.Model, expected, parts));
        }

        const string Query = "encoder.layer.0.attention.self.query.weight";
        Model("clean", null, [], TinyWeights());
        Model("nan_in_query_weight", typeof(WeightException), ["model.safetensors", Query, "non-finite"], TinyWeights(Query, 5));
        Model("inf_in_word_embeddings", typeof(WeightException), ["model.safetensors", "embeddings.word_embeddings.weight", "non-finite"],
            TinyWeights("embeddings.word_embeddings.weight", 31, float.PositiveInfinity));
        Model("neg_inf_in_layernorm", typeof(WeightException), ["model.safetensors", "encoder.layer.0.output.LayerNorm.weight", "non-finite"],
            TinyWeights("encoder.layer.0.output.LayerNorm.weight", 3, float.NegativeInfinity));
        Model("nan_in_bias", typeof(WeightException), ["model.safetensors", "encoder.layer.0.attention.output.dense.bias", "non-finite"],
            TinyWeights("encoder.layer.0.attention.output.dense.bias", 0));
        Model("nan_in_f16_weight", typeof(WeightException), ["model.safetensors", "encoder.layer.0.intermediate.dense.weight", "non-finite"],
            TinyWeights("encoder.layer.0.intermediate.dense.weight", 15, f16: true));
        Model("vocab_exceeds_config", typeof(ModelConfigException), ["vocab_size", "9 tokens"], null, vocab: [.. BaseVocab, "extra"]);
        // A complete WordPiece tokenizer.json whose added token (id 8) takes the vocabulary past config.json's
        // vocab_size 8: the model could not embed it, a config error.
        string wordPieceVocab = string.Join(",", BaseVocab.Select((t, i) => $"\"{t}\":{i}"));
        const string AddedNew = "\"added_tokens\":[{\"id\":8,\"content\":\"[NEW]\",\"special\":true}]";
        Model("added_token_beyond_config", typeof(ModelConfigException), ["vocab_size", "9 tokens"], null);
        files.Add(("model/added_token_beyond_config/tokenizer.json", Encoding.UTF8.GetBytes(
            "{\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\",\"max_input_chars_per_word\":100,"
            + "\"vocab\":{" + wordPieceVocab + "}}," + AddedNew + "}")));
        // The same added token in a tokenizer.json that has no "model": not a tokenizer.json HF could load either, so
        // the tokenizer file is what is wrong.
        Model("tokenizer_json_without_model", typeof(TokenizerException), ["tokenizer.json", "\"model\" is missing"], null);
        files.Add(("model/tokenizer_json_without_model/tokenizer.json", Encoding.UTF8.GetBytes("{" + AddedNew + "}")));
        Model("embedding_rows_mismatch", typeof(WeightException), ["embeddings.word_embeddings.weight", "[8, 4]"], TinyWeights(),
            config: TinyConfig.Replace("\"vocab_size\":8", "\"vocab_size\":9"));
    }

    // ---- sharded checkpoints --------------------------------------------------------------------------------------

    private static byte[] Shard(params string[] names) =>
        WriteToBytes(names.Select(n => TensorToWrite.FromFloat32(n, [1], [1f])));

    private static void AddShards(List<(string, byte[])> files, List<HostileCase> cases)
    {
        void Folder(string name, Type? expected, string[] parts, string index, params (string File, byte[] Bytes)[] shards)
        {
            files.Add(($"shards/{name}/model.safetensors.index.json", Encoding.UTF8.GetBytes(index)));
            foreach (var (file, bytes) in shards) files.Add(($"shards/{name}/{file}", bytes));
            cases.Add(new HostileCase($"shards/{name}", HostileLoader.Checkpoint, expected, parts));
        }
        const string TwoShards = "{\"weight_map\":{\"w\":\"a.safetensors\",\"v\":\"b.safetensors\"}}";

        Folder("tensor_in_two_shards", typeof(SafetensorsException), ["two shards"], TwoShards, ("a.safetensors", Shard("w")), ("b.safetensors", Shard("v", "w")));
        Folder("index_names_wrong_shard", typeof(SafetensorsException), ["'w'", "but it is in"], TwoShards, ("a.safetensors", Shard("v")), ("b.safetensors", Shard("w")));
        Folder("index_tensor_absent", typeof(SafetensorsException), ["'x'", "no shard contains it"],
            "{\"weight_map\":{\"w\":\"a.safetensors\",\"x\":\"a.safetensors\"}}", ("a.safetensors", Shard("w")));
        Folder("index_tensor_listed_twice", typeof(SafetensorsException), ["'w'", "twice"],
            "{\"weight_map\":{\"w\":\"a.safetensors\",\"w\":\"b.safetensors\"}}", ("a.safetensors", Shard("w")), ("b.safetensors", Shard("v")));
        Folder("index_empty_weight_map", typeof(SafetensorsException), ["weight_map is empty"], "{\"weight_map\":{}}");
        Folder("index_nested_too_deep", typeof(SafetensorsException), ["not valid JSON"],
            "{\"metadata\":" + new string('[', 40) + new string(']', 40) + ",\"weight_map\":{\"w\":\"a.safetensors\"}}", ("a.safetensors", Shard("w")));
        Folder("shard_is_hostile", typeof(SafetensorsException), ["a.safetensors", "OffsetsOutOfBounds"],
            "{\"weight_map\":{\"w\":\"a.safetensors\"}}", ("a.safetensors", RawSafetensors.Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4)));
        // Accepted: transformers loads whole shards, so tensors the index does not list are still exposed.
        Folder("shard_extra_tensor", null, [], "{\"weight_map\":{\"w\":\"a.safetensors\"}}", ("a.safetensors", Shard("w", "extra")));
    }
}
