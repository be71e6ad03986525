namespace NativeTransformer.Tests.Models;

/// <summary>A throwaway copy of a shared model folder that a test may alter (config, weights, extra files).</summary>
internal sealed class TempModelFolder : IDisposable
{
    public string Path { get; }

    private TempModelFolder(string path) => Path = path;

    public static TempModelFolder CopyOf(string model, bool withWeights = true)
    {
        var dir = Directory.CreateTempSubdirectory("nt-model-").FullName;
        foreach (var file in Directory.GetFiles(TestPaths.Model(model)))
        {
            if (!withWeights && file.EndsWith(".safetensors")) continue;
            File.Copy(file, System.IO.Path.Combine(dir, System.IO.Path.GetFileName(file)));
        }
        return new TempModelFolder(dir);
    }

    /// <summary>
    /// A copy of <paramref name="model"/> whose tokenizer files are replaced by a synthetic WordPiece vocab.txt of the config's
    /// vocab size ([CLS] [PAD] [SEP] [UNK] [MASK] w5 w6 …: pad id 1 as RoBERTa's). The weights and config are the real ones,
    /// so the folder loads through the ordinary path (CLI, inspect, memory estimate) whatever tokenizer family the original has.
    /// </summary>
    public static TempModelFolder WithWordPieceStandIn(string model)
    {
        var folder = CopyOf(model);
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
                     "spiece.model", "sentencepiece.bpe.model", "vocab.txt" })
            File.Delete(folder.FilePath(name));
        int vocab = NativeTransformer.Models.ModelConfig.Load(folder.FilePath("config.json")).VocabSize;
        var lines = new List<string>(vocab) { "[CLS]", "[PAD]", "[SEP]", "[UNK]", "[MASK]" };
        for (int i = lines.Count; i < vocab; i++) lines.Add($"w{i}");
        File.WriteAllLines(folder.FilePath("vocab.txt"), lines);
        return folder;
    }

    public string FilePath(string name) => System.IO.Path.Combine(Path, name);

    public void Write(string name, string text)
    {
        var full = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }

    /// <summary>Adds modules.json (Transformer, Pooling, optional Normalize) and 1_Pooling/config.json.</summary>
    public void WriteSentenceTransformers(PoolingMode mode, bool normalize)
    {
        var modules = """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}""";
        if (normalize) modules += """,{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}""";
        Write("modules.json", modules + "]");
        string Flag(PoolingMode m) => mode == m ? "true" : "false";
        Write("1_Pooling/config.json", $$"""{"word_embedding_dimension":128,"pooling_mode_cls_token":{{Flag(PoolingMode.Cls)}},"pooling_mode_mean_tokens":{{Flag(PoolingMode.Mean)}},"pooling_mode_max_tokens":{{Flag(PoolingMode.Max)}},"pooling_mode_mean_sqrt_len_tokens":false}""");
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
