using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using NativeTransformer.Weights;

namespace NativeTransformer.WeightsTools;

/// <summary>Dimensions of one synthetic BERT shape. With <see cref="AttentionWindow"/> it is a Longformer (model_type longformer:
/// RoBERTa-style positions from pad_token_id 1, <see cref="MaxPositions"/> rows, global query/key/value projections).</summary>
public sealed record BertShape(string Name, int Hidden, int Layers, int Heads, int Intermediate)
{
    public const int VocabSize = 30522;
    public const int TypeVocabSize = 2;
    /// <summary>Position rows: 512 for BERT; 4,098 for the Longformer shapes (pad_token_id 1 + 1 + 4,096 tokens).</summary>
    public int MaxPositions { get; init; } = 512;
    /// <summary>Longformer's attention_window (every layer); null for BERT.</summary>
    public int? AttentionWindow { get; init; }
    public bool IsLongformer => AttentionWindow is not null;

    /// <summary>The shapes make-random knows: all-MiniLM-L6-v2, bert-base and bert-large dimensions.</summary>
    public static IReadOnlyDictionary<string, BertShape> Known { get; } = new Dictionary<string, BertShape>(StringComparer.Ordinal)
    {
        ["minilm-l6"] = new("minilm-l6", 384, 6, 12, 1536),
        ["bert-base"] = new("bert-base", 768, 12, 12, 3072),
        ["bert-large"] = new("bert-large", 1024, 24, 16, 4096),
        // allenai/longformer-base-4096's dimensions, and a small one for benchmarks on a laptop.
        ["longformer-base-4096"] = new("longformer-base-4096", 768, 12, 12, 3072) { MaxPositions = 4098, AttentionWindow = 512 },
        ["longformer-small-4096"] = new("longformer-small-4096", 256, 4, 4, 1024) { MaxPositions = 4098, AttentionWindow = 256 },
    };
}

/// <summary>One tensor of the random checkpoint: HF key, shape and how it is initialised.</summary>
public sealed record RandomTensorSpec(string Name, long[] Shape, RandomInit Init)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);
}

public enum RandomInit { Normal, Zeros, Ones }

/// <summary>
/// Writes a Hugging Face BERT folder with random weights: normal(0, 0.02) matrices and embeddings, LayerNorm weight 1,
/// every bias 0 — HF's <c>_init_weights</c> for BERT. Deterministic: each tensor's values come from its own
/// <see cref="System.Random"/> seeded from (seed, tensor name) through a stable hash, so bytes do not depend on the
/// order in which tensors are generated or written, and the same seed gives identical files on every run.
/// </summary>
public static class RandomModelGenerator
{
    public const double InitializerRange = 0.02;

    /// <summary>HF key names and shapes: a bare BertModel (as all-MiniLM-L6-v2: embeddings.*, encoder.layer.{i}.*,
    /// pooler.dense.*) when <paramref name="labels"/> is null, else BertForSequenceClassification
    /// (bert.-prefixed encoder and pooler plus classifier.weight [labels, H] and classifier.bias).</summary>
    public static IReadOnlyList<RandomTensorSpec> TensorSpecs(BertShape shape, int? labels)
    {
        string p = labels is null ? "" : shape.IsLongformer ? "longformer." : "bert.";
        long h = shape.Hidden, i = shape.Intermediate;
        var specs = new List<RandomTensorSpec>
        {
            new($"{p}embeddings.word_embeddings.weight", [BertShape.VocabSize, h], RandomInit.Normal),
            new($"{p}embeddings.position_embeddings.weight", [shape.MaxPositions, h], RandomInit.Normal),
            new($"{p}embeddings.token_type_embeddings.weight", [BertShape.TypeVocabSize, h], RandomInit.Normal),
            new($"{p}embeddings.LayerNorm.weight", [h], RandomInit.Ones),
            new($"{p}embeddings.LayerNorm.bias", [h], RandomInit.Zeros),
        };
        for (int l = 0; l < shape.Layers; l++)
        {
            string e = $"{p}encoder.layer.{l}.";
            string[] projections = shape.IsLongformer ? ["query", "key", "value", "query_global", "key_global", "value_global"] : ["query", "key", "value"];
            foreach (var qkv in projections)
            {
                specs.Add(new($"{e}attention.self.{qkv}.weight", [h, h], RandomInit.Normal));
                specs.Add(new($"{e}attention.self.{qkv}.bias", [h], RandomInit.Zeros));
            }
            specs.Add(new($"{e}attention.output.dense.weight", [h, h], RandomInit.Normal));
            specs.Add(new($"{e}attention.output.dense.bias", [h], RandomInit.Zeros));
            specs.Add(new($"{e}attention.output.LayerNorm.weight", [h], RandomInit.Ones));
            specs.Add(new($"{e}attention.output.LayerNorm.bias", [h], RandomInit.Zeros));
            specs.Add(new($"{e}intermediate.dense.weight", [i, h], RandomInit.Normal));
            specs.Add(new($"{e}intermediate.dense.bias", [i], RandomInit.Zeros));
            specs.Add(new($"{e}output.dense.weight", [h, i], RandomInit.Normal));
            specs.Add(new($"{e}output.dense.bias", [h], RandomInit.Zeros));
            specs.Add(new($"{e}output.LayerNorm.weight", [h], RandomInit.Ones));
            specs.Add(new($"{e}output.LayerNorm.bias", [h], RandomInit.Zeros));
        }
        if (shape.IsLongformer && labels is int c) // LongformerForSequenceClassification: no pooler; dense + tanh + out_proj on token 0
        {
            specs.Add(new("classifier.dense.weight", [h, h], RandomInit.Normal));
            specs.Add(new("classifier.dense.bias", [h], RandomInit.Zeros));
            specs.Add(new("classifier.out_proj.weight", [c, h], RandomInit.Normal));
            specs.Add(new("classifier.out_proj.bias", [c], RandomInit.Zeros));
            return specs;
        }
        specs.Add(new($"{p}pooler.dense.weight", [h, h], RandomInit.Normal));
        specs.Add(new($"{p}pooler.dense.bias", [h], RandomInit.Zeros));
        if (labels is int k)
        {
            specs.Add(new("classifier.weight", [k, h], RandomInit.Normal));
            specs.Add(new("classifier.bias", [k], RandomInit.Zeros));
        }
        return specs;
    }

    /// <summary>The F32 little-endian bytes of one tensor for <paramref name="seed"/>.</summary>
    public static byte[] GenerateBytes(RandomTensorSpec spec, int seed)
    {
        long n = spec.ElementCount;
        var bytes = new byte[checked(n * sizeof(float))];
        var values = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
        switch (spec.Init)
        {
            case RandomInit.Zeros: break;
            case RandomInit.Ones: values.Fill(1f); break;
            default: FillNormal(values, TensorSeed(seed, spec.Name), InitializerRange); break;
        }
        if (!BitConverter.IsLittleEndian)
            for (int j = 0; j < values.Length; j++)
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(j * 4, 4), values[j]);
        return bytes;
    }

    /// <summary>Normal(0, std) by Box–Muller from System.Random(seed) (whose seeded sequence is stable across .NET versions).</summary>
    public static void FillNormal(Span<float> destination, int seed, double std)
    {
        var rng = new Random(seed);
        int j = 0;
        while (j < destination.Length)
        {
            double u1 = 1.0 - rng.NextDouble(); // (0, 1]: log is finite
            double u2 = rng.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1)) * std;
            double a = 2.0 * Math.PI * u2;
            destination[j++] = (float)(r * Math.Cos(a));
            if (j < destination.Length) destination[j++] = (float)(r * Math.Sin(a));
        }
    }

    /// <summary>Stable per-tensor seed: FNV-1a 64 over the seed and the UTF-8 name, folded to 31 bits.</summary>
    public static int TensorSeed(int seed, string name)
    {
        ulong hash = 14695981039346656037UL;
        void Mix(byte b) { hash ^= b; hash *= 1099511628211UL; }
        for (int s = 0; s < 4; s++) Mix((byte)(seed >> (8 * s)));
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(name)) Mix(b);
        return (int)((hash ^ (hash >> 32)) & 0x7FFFFFFF);
    }

    /// <summary>config.json content for the shape (model_type bert, gelu, eps 1e-12, architectures, labels if any).</summary>
    public static JsonObject Config(BertShape shape, int? labels)
    {
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(labels is null ? "BertModel" : "BertForSequenceClassification"),
            ["attention_probs_dropout_prob"] = 0.1,
            ["classifier_dropout"] = null,
            ["hidden_act"] = "gelu",
            ["hidden_dropout_prob"] = 0.1,
            ["hidden_size"] = shape.Hidden,
            ["initializer_range"] = InitializerRange,
            ["intermediate_size"] = shape.Intermediate,
            ["layer_norm_eps"] = 1e-12,
            ["max_position_embeddings"] = shape.MaxPositions,
            ["model_type"] = "bert",
            ["num_attention_heads"] = shape.Heads,
            ["num_hidden_layers"] = shape.Layers,
            ["pad_token_id"] = 0,
            ["position_embedding_type"] = "absolute",
            ["torch_dtype"] = "float32",
            ["type_vocab_size"] = BertShape.TypeVocabSize,
            ["use_cache"] = true,
            ["vocab_size"] = BertShape.VocabSize,
        };
        if (shape.AttentionWindow is int window)
        {
            config["architectures"] = new JsonArray(labels is null ? "LongformerModel" : "LongformerForSequenceClassification");
            config["model_type"] = "longformer";
            config["attention_window"] = new JsonArray(Enumerable.Repeat(window, shape.Layers).Select(w => (JsonNode)w).ToArray());
            config["layer_norm_eps"] = 1e-5;
            config["pad_token_id"] = 1; // as longformer-base-4096: positions pad + 1 … pad + 4096
        }
        if (labels is int k)
        {
            var id2label = new JsonObject();
            var label2id = new JsonObject();
            for (int j = 0; j < k; j++) { id2label[j.ToString()] = $"LABEL_{j}"; label2id[$"LABEL_{j}"] = j; }
            config["id2label"] = id2label;
            config["label2id"] = label2id;
            config["problem_type"] = "single_label_classification";
        }
        return config;
    }

    /// <summary>Tokenizer files copied from the vocab folder (vocab.txt required, the others when present).</summary>
    public static readonly string[] TokenizerFiles = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

    /// <summary>Writes config.json, model.safetensors and the tokenizer files into <paramref name="outputDir"/>.
    /// Peak memory: the writer keeps every <see cref="TensorToWrite"/> in a list, but the tensors here are lazy
    /// (<see cref="LazyTensorMemory"/>) — at most one tensor's bytes are alive at a time while the file is written.</summary>
    public static void Generate(BertShape shape, int seed, string outputDir, int? labels, string vocabFrom)
    {
        if (!File.Exists(Path.Combine(vocabFrom, "vocab.txt")))
            throw new FileNotFoundException($"no vocab.txt in '{vocabFrom}' (use --vocab-from DIR)");
        Directory.CreateDirectory(outputDir);
        var slot = new LazyTensorMemory.Slot();
        var tensors = TensorSpecs(shape, labels).Select(spec =>
        {
            var lazy = new LazyTensorMemory(checked((int)(spec.ElementCount * sizeof(float))), () => GenerateBytes(spec, seed), slot);
            return new TensorToWrite(spec.Name, DType.F32, spec.Shape, lazy.LazyMemory);
        });
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        SafetensorsWriter.Write(Path.Combine(outputDir, "model.safetensors"), tensors, metadata);
        File.WriteAllText(Path.Combine(outputDir, "config.json"),
            Config(shape, labels).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        foreach (var f in TokenizerFiles)
        {
            string src = Path.Combine(vocabFrom, f);
            if (File.Exists(src)) File.Copy(src, Path.Combine(outputDir, f), overwrite: true);
        }
        // A Longformer takes 4,096 tokens: the copied BERT tokenizer_config's model_max_length (512) would cut inputs there.
        string tokenizerConfig = Path.Combine(outputDir, "tokenizer_config.json");
        if (shape.IsLongformer && File.Exists(tokenizerConfig) && JsonNode.Parse(File.ReadAllText(tokenizerConfig)) is JsonObject tc)
        {
            tc["model_max_length"] = shape.MaxPositions - 2;
            File.WriteAllText(tokenizerConfig, tc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
    }
}

/// <summary>
/// Memory whose bytes are produced on first access and dropped when another tensor of the same <see cref="Slot"/>
/// is produced, so writing a checkpoint holds one tensor at a time. Regenerates (deterministically) if touched again.
/// </summary>
public sealed class LazyTensorMemory : MemoryManager<byte>
{
    public sealed class Slot { internal LazyTensorMemory? Current; }

    private readonly int _length;
    private readonly Func<byte[]> _generate;
    private readonly Slot _slot;
    private byte[]? _bytes;
    private GCHandle _pin;
    private int _pins;

    public LazyTensorMemory(int length, Func<byte[]> generate, Slot slot)
    {
        _length = length; _generate = generate; _slot = slot;
    }

    /// <summary>Memory of the right length that does not materialise the bytes (unlike <see cref="MemoryManager{T}.Memory"/>).</summary>
    public Memory<byte> LazyMemory => CreateMemory(_length);

    private byte[] Bytes()
    {
        lock (_slot)
        {
            if (_bytes is null)
            {
                if (_slot.Current is { } previous && previous != this && previous._pins == 0) previous._bytes = null;
                var b = _generate();
                if (b.Length != _length) throw new InvalidOperationException($"generator gave {b.Length} bytes, expected {_length}");
                _bytes = b;
                _slot.Current = this;
            }
            return _bytes;
        }
    }

    public override Span<byte> GetSpan() => Bytes();

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        var b = Bytes();
        lock (_slot)
        {
            if (_pins++ == 0) _pin = GCHandle.Alloc(b, GCHandleType.Pinned);
            return new MemoryHandle((byte*)_pin.AddrOfPinnedObject() + elementIndex, default, this);
        }
    }

    public override void Unpin()
    {
        lock (_slot) { if (--_pins == 0) _pin.Free(); }
    }

    protected override void Dispose(bool disposing) { _bytes = null; }
}
