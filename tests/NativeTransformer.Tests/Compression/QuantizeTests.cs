using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using NativeTransformer.Compression;
using NativeTransformer.Kernels.Int8;
using NativeTransformer.Models;
using NativeTransformer.Tests.Models;
using NativeTransformer.Tests.WeightsTools;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Compression;

/// <summary>bert-tiny-sst2 quantized once per variant (int8 + fp32 embeddings, int8 + int8 embeddings, fp16).</summary>
public sealed class QuantizedBertTinyFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("nt-quantize-").FullName;
    public string Source => TestPaths.Model("bert-tiny-sst2");
    public string Int8 => Path.Combine(Root, "int8-e32");
    public string Int8Embeddings => Path.Combine(Root, "int8-e8");
    public string Fp16 => Path.Combine(Root, "fp16");
    public QuantizeReport Int8Report { get; }

    public QuantizedBertTinyFixture()
    {
        Int8Report = QuantizeFolder.Run(Source, Int8, new QuantizeOptions(LinearPrecision.Int8, EmbeddingPrecision.Fp32));
        QuantizeFolder.Run(Source, Int8Embeddings, new QuantizeOptions(LinearPrecision.Int8));
        QuantizeFolder.Run(Source, Fp16, new QuantizeOptions(LinearPrecision.Fp16));
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public sealed class QuantizeTests(QuantizedBertTinyFixture fixture) : IClassFixture<QuantizedBertTinyFixture>
{
    internal static readonly TextInput[] Texts =
    [
        new("a gorgeous, witty, seductive movie."), new("the plot is nothing but boilerplate", "and it drags"), new(""),
    ];

    private const string Word = "bert.embeddings.word_embeddings.weight";

    internal static void AssertSameEncode(TransformerModel a, TransformerModel b)
    {
        var x = a.Encode(Texts);
        var y = b.Encode(Texts);
        Assert.Equal(x.HiddenStates.Length, y.HiddenStates.Length);
        for (int i = 0; i < x.HiddenStates.Length; i++) Assert.Equal(x.HiddenStates[i], y.HiddenStates[i]);
        Assert.Equal(x.PoolerOutput, y.PoolerOutput);
        Assert.Equal(x.Logits, y.Logits);
    }

    [Fact]
    public void Int8FolderHoldsEveryEncoderLinearAsI8WithScalesAndEverythingElseUnchanged()
    {
        using var original = SafetensorsFile.Open(Path.Combine(fixture.Source, "model.safetensors"));
        using var quantized = SafetensorsFile.Open(Path.Combine(fixture.Int8, "model.safetensors"));
        var linear = original.Tensors.Where(t => PruneSelection.IsEncoderLinearWeight(t.Name)).ToList();
        Assert.Equal(12, linear.Count); // 2 layers × 6
        Assert.Equal(12, fixture.Int8Report.Int8Matrices);
        Assert.Equal(original.Tensors.Count + linear.Count, quantized.Tensors.Count);
        foreach (var t in linear)
        {
            var q = quantized.GetInfo(t.Name);
            Assert.Equal(DType.I8, q.DType);
            Assert.Equal(t.Shape, q.Shape);
            var scale = quantized.GetInfo(t.Name + "_scale");
            Assert.Equal(DType.F32, scale.DType);
            Assert.Equal([t.Shape[0]], scale.Shape);
            // Exactly the load-time rule.
            var expected = QuantizedMatrix.Quantize(original.GetFloat32(t.Name).Span, (int)t.Shape[0], (int)t.Shape[1]);
            Assert.True(MemoryMarshal.Cast<byte, sbyte>(quantized.GetBytes(t.Name)).SequenceEqual(expected.Q), t.Name);
            Assert.True(quantized.GetFloat32(scale.Name).Span.SequenceEqual(expected.Scales), scale.Name);
        }
        foreach (var t in original.Tensors.Where(t => !PruneSelection.IsEncoderLinearWeight(t.Name)))
        {
            Assert.Equal(t.DType, quantized.GetInfo(t.Name).DType);
            Assert.True(quantized.GetBytes(t.Name).SequenceEqual(original.GetBytes(t.Name)), t.Name);
        }
        Assert.Equal("pt", quantized.Metadata["format"]);
        Assert.Equal("int8-symmetric-per-channel/v1", quantized.Metadata["nt.quantization"]);
        Assert.Equal("fp32", quantized.Metadata["nt.quantization.embeddings"]);
        foreach (var f in new[] { "config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(fixture.Source, f)), File.ReadAllBytes(Path.Combine(fixture.Int8, f)));
    }

    [Fact]
    public void BinderHandsOutInt8WeightsWithoutFloatCopies()
    {
        var config = ModelConfig.Load(Path.Combine(fixture.Int8Embeddings, "config.json"));
        using var source = Checkpoint.Open(fixture.Int8Embeddings);
        var weights = new WeightBinder(source, config).BindEncoder();
        Assert.IsType<Int8EmbeddingTable>(weights.Embeddings.Word);
        foreach (var layer in weights.Layers)
            foreach (var w in new[] { layer.Query, layer.Key, layer.Value, layer.AttentionOutput, layer.Intermediate, layer.Output })
            {
                Assert.True(w.Weight.IsEmpty, w.Key);
                var q = Assert.IsType<Int8Weight>(w.Quantized);
                Assert.Equal((w.Out, w.In), (q.Rows, q.Cols));
                Assert.Equal(w.Out * w.In, q.Values.Length);
            }
    }

    [Fact]
    public void Int8FolderEqualsLoadTimeInt8BitForBit()
    {
        using var folder = TransformerModel.Load(fixture.Int8, new LoadOptions { Threads = 1 });
        using var loadTime = TransformerModel.Load(fixture.Source, new LoadOptions { Threads = 1, Int8 = true });
        Assert.StartsWith("int8", folder.KernelDescription);
        Assert.DoesNotContain("fp32", folder.KernelDescription);
        AssertSameEncode(folder, loadTime);
        // LoadOptions.Int8 on an int8 folder changes nothing.
        using var both = TransformerModel.Load(fixture.Int8, new LoadOptions { Threads = 1, Int8 = true });
        AssertSameEncode(both, loadTime);
    }

    [Fact]
    public void MixedFolderRunsItsInt8LayersAndLoadTimeInt8QuantizesTheRest()
    {
        using var dir = Copy(fixture.Int8);
        // Layer 1's intermediate weight back to the original fp32 (scale dropped).
        using (var original = SafetensorsFile.Open(Path.Combine(fixture.Source, "model.safetensors")))
        {
            const string key = "bert.encoder.layer.1.intermediate.dense.weight";
            var info = original.GetInfo(key);
            var bytes = original.GetBytes(key).ToArray();
            CheckpointEditor.Rewrite(dir.Path, (t, d) => t.Name == key ? new TensorToWrite(key, DType.F32, info.Shape, bytes)
                : t.Name == key + "_scale" ? null : CheckpointEditor.Keep(t, d));
        }
        using (var mixed = TransformerModel.Load(dir.Path, new LoadOptions { Threads = 1 }))
        {
            Assert.Contains("int8", mixed.KernelDescription);
            Assert.Contains("fp32-packed", mixed.KernelDescription);
            Assert.Equal(Texts.Length, mixed.Classify(Texts).Length);
        }
        using var mixedInt8 = TransformerModel.Load(dir.Path, new LoadOptions { Threads = 1, Int8 = true });
        using var loadTime = TransformerModel.Load(fixture.Source, new LoadOptions { Threads = 1, Int8 = true });
        AssertSameEncode(mixedInt8, loadTime);
    }

    [Fact]
    public void Int8EmbeddingsAreRowsDequantizedOnLookup()
    {
        using (var file = SafetensorsFile.Open(Path.Combine(fixture.Int8Embeddings, "model.safetensors")))
        {
            Assert.Equal(DType.I8, file.GetInfo(Word).DType);
            Assert.Equal([30522L], file.GetInfo(Word + "_scale").Shape);
            Assert.Equal(DType.F32, file.GetInfo("bert.embeddings.position_embeddings.weight").DType);
            Assert.Equal("int8", file.Metadata["nt.quantization.embeddings"]);
        }
        // Same per-row rule as the Linear weights.
        using (var original = SafetensorsFile.Open(Path.Combine(fixture.Source, "model.safetensors")))
        using (var file = SafetensorsFile.Open(Path.Combine(fixture.Int8Embeddings, "model.safetensors")))
        {
            var expected = QuantizedMatrix.Quantize(original.GetFloat32(Word).Span, 30522, 128);
            Assert.True(MemoryMarshal.Cast<byte, sbyte>(file.GetBytes(Word)).SequenceEqual(expected.Q));
            Assert.True(file.GetFloat32(Word + "_scale").Span.SequenceEqual(expected.Scales));
        }
        // The same folder with the word table dequantized to F32 up front gives identical outputs.
        using var dequantized = Copy(fixture.Int8Embeddings);
        DequantizeWordEmbeddings(dequantized.Path, Word);
        using var a = TransformerModel.Load(fixture.Int8Embeddings, new LoadOptions { Threads = 1 });
        using var b = TransformerModel.Load(dequantized.Path, new LoadOptions { Threads = 1 });
        AssertSameEncode(a, b);
        // And it still agrees with load-time int8 on the labels.
        using var loadTime = TransformerModel.Load(fixture.Source, new LoadOptions { Threads = 1, Int8 = true });
        Assert.Equal(loadTime.Classify(Texts).Select(c => c.Label), a.Classify(Texts).Select(c => c.Label));
    }

    [Fact]
    public void Fp16FolderHasOnlyF16FloatsAndLoadsCloseToFp32()
    {
        using (var original = SafetensorsFile.Open(Path.Combine(fixture.Source, "model.safetensors")))
        using (var half = SafetensorsFile.Open(Path.Combine(fixture.Fp16, "model.safetensors")))
        {
            Assert.Equal(original.Tensors.Count, half.Tensors.Count);
            foreach (var t in original.Tensors)
            {
                var h = half.GetInfo(t.Name);
                Assert.Equal(t.DType == DType.F32 ? DType.F16 : t.DType, h.DType);
                Assert.Equal(t.Shape, h.Shape);
            }
            var pooler = original.GetFloat32("bert.pooler.dense.weight").Span;
            var pooler16 = half.GetFloat32("bert.pooler.dense.weight").Span;
            for (int i = 0; i < pooler.Length; i++) Assert.Equal((float)(Half)pooler[i], pooler16[i]);
            Assert.Equal("fp16", half.Metadata["nt.quantization"]);
        }
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Fp16, "config.json")))!.AsObject();
        Assert.Equal("float16", (string)config["torch_dtype"]!);
        using var fp16 = TransformerModel.Load(fixture.Fp16, new LoadOptions { Threads = 1 });
        using var fp32 = TransformerModel.Load(fixture.Source, new LoadOptions { Threads = 1 });
        var x = fp16.Encode(Texts).Logits!;
        var y = fp32.Encode(Texts).Logits!;
        for (int i = 0; i < x.Length; i++) Assert.InRange(x[i] - y[i], -0.02f, 0.02f);
    }

    [Fact]
    public void InspectAcceptsTheInt8Folder()
    {
        var s = TransformerModel.Inspect(fixture.Int8Embeddings);
        var fp32 = TransformerModel.Inspect(fixture.Source);
        Assert.Equal(13, s.TensorsByDType["I8"]);
        Assert.Equal(fp32.ParameterCount, s.ParameterCount);
        var run = MakeRandomRun.Run("inspect", fixture.Int8Embeddings);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("quantization:      int8-symmetric-per-channel/v1 (embeddings int8)", run.Stdout);
        Assert.Contains("bert.encoder.layer.0.attention.self.query.weight", run.Stdout);
        Assert.Matches(@"query\.weight\s+I8\s+\[128, 128\]", run.Stdout);
    }

    [Fact]
    public void StackingInt8RowBlocksEqualsQuantizingTheStackedRows()
    {
        var rng = new Random(3);
        float[] a = Enumerable.Range(0, 5 * 7).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, 19 * 7).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        Array.Clear(b, 7, 7); // an all-zero row
        QuantizedMatrix qa = QuantizedMatrix.Quantize(a, 5, 7), qb = QuantizedMatrix.Quantize(b, 19, 7);
        var stacked = QuantizedMatrix.Zeros(24, 7);
        stacked.SetRows(0, qa.Q, qa.Scales);
        stacked.SetRows(5, qb.Q, qb.Scales);
        var expected = QuantizedMatrix.Quantize([.. a, .. b], 24, 7);
        Assert.True(stacked.Q.SequenceEqual(expected.Q));
        Assert.True(stacked.Scales.SequenceEqual(expected.Scales));
        Assert.True(stacked.ColumnSums.SequenceEqual(expected.ColumnSums));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedMatrix.Zeros(24, 7).SetRows(6, qb.Q, qb.Scales));
        Assert.Throws<ArgumentException>(() => QuantizedMatrix.Zeros(24, 7).SetRows(0, qa.Q[..34], qa.Scales));
    }

    // ---- hostile folders ----

    private const string Query = "bert.encoder.layer.0.attention.self.query.weight";

    [Fact]
    public void MissingScaleIsAWeightErrorNamingIt() =>
        AssertWeightError((t, d) => t.Name == Query + "_scale" ? null : CheckpointEditor.Keep(t, d), Query + "_scale", "without its scale");

    [Fact]
    public void WrongShapeScaleIsAWeightError() =>
        AssertWeightError((t, d) => t.Name == Query + "_scale" ? TensorToWrite.FromFloat32(t.Name, [127], new float[127]) : CheckpointEditor.Keep(t, d),
            Query + "_scale", "expected F32 [128]");

    [Fact]
    public void WrongDTypeScaleIsAWeightError() =>
        AssertWeightError((t, d) => t.Name == Query + "_scale" ? TensorToWrite.FromFloat16(t.Name, [128], new Half[128]) : CheckpointEditor.Keep(t, d),
            Query + "_scale", "expected F32 [128]");

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(-1f)]
    public void NonFiniteOrNegativeScaleIsAWeightError(float bad) =>
        AssertWeightError((t, d) =>
        {
            if (t.Name != Query + "_scale") return CheckpointEditor.Keep(t, d);
            var values = MemoryMarshal.Cast<byte, float>(d.Span).ToArray();
            values[5] = bad;
            return TensorToWrite.FromFloat32(t.Name, t.Shape, values);
        }, Query + "_scale", "scale 5");

    [Fact]
    public void I8WhereLayerNormIsExpectedIsAWeightError()
    {
        const string norm = "bert.encoder.layer.0.attention.output.LayerNorm.weight";
        AssertWeightError((t, d) => t.Name == norm ? TensorToWrite.FromInt8(norm, t.Shape, new sbyte[128]) : CheckpointEditor.Keep(t, d), norm, "dtype I8");
    }

    [Fact]
    public void I8PoolerIsAWeightError()
    {
        const string pooler = "bert.pooler.dense.weight";
        AssertWeightError((t, d) => t.Name == pooler ? TensorToWrite.FromInt8(pooler, t.Shape, new sbyte[128 * 128]) : CheckpointEditor.Keep(t, d),
            pooler, "dtype I8", extra: TensorToWrite.FromFloat32(pooler + "_scale", [128], new float[128]));
    }

    [Fact]
    public void I8WeightOfTheWrongShapeIsAWeightError() =>
        AssertWeightError((t, d) => t.Name == Query ? TensorToWrite.FromInt8(Query, [128, 64], new sbyte[128 * 64]) : CheckpointEditor.Keep(t, d),
            Query, "expected [128, 128]");

    [Fact]
    public void UnknownFormatVersionIsRefused()
    {
        using var dir = Copy(fixture.Int8);
        string path = dir.FilePath("model.safetensors");
        var tensors = new List<TensorToWrite>();
        using (var file = SafetensorsFile.Open(path))
            foreach (var t in file.Tensors) tensors.Add(new TensorToWrite(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray()));
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["nt.quantization"] = "int8-symmetric-per-channel/v2" });
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(dir.Path));
        Assert.Contains("int8-symmetric-per-channel/v2", e.Message);
        Assert.Contains("nt.quantization", e.Message);
        Assert.Throws<WeightException>(() => TransformerModel.Inspect(dir.Path));
    }

    private void AssertWeightError(Func<TensorInfo, ReadOnlyMemory<byte>, TensorToWrite?> edit, string key, string message, params TensorToWrite[] extra)
    {
        using var dir = Copy(fixture.Int8);
        CheckpointEditor.Rewrite(dir.Path, edit, extra);
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(dir.Path));
        Assert.Equal(key, e.Key);
        Assert.Contains(key, e.Message);
        Assert.Contains(message, e.Message);
        Assert.Equal(key, Assert.Throws<WeightException>(() => TransformerModel.Inspect(dir.Path)).Key);
    }

    /// <summary>A writable copy of a folder (the quantizer copies read-only tokenizer files as they are).</summary>
    internal static TempFolderCopy Copy(string folder) => new(folder);

    /// <summary>Replaces I8 <paramref name="key"/> + its scale with the F32 table q · scale.</summary>
    internal static void DequantizeWordEmbeddings(string folder, string key)
    {
        float[] values;
        long[] shape;
        using (var file = SafetensorsFile.Open(Path.Combine(folder, "model.safetensors")))
        {
            shape = file.GetInfo(key).Shape;
            var q = MemoryMarshal.Cast<byte, sbyte>(file.GetBytes(key));
            var scales = file.GetFloat32(key + "_scale").Span;
            int width = (int)shape[1];
            values = new float[q.Length];
            for (int i = 0; i < q.Length; i++) values[i] = q[i] * scales[i / width];
        }
        CheckpointEditor.Rewrite(folder, (t, d) => t.Name == key ? TensorToWrite.FromFloat32(key, shape, values)
            : t.Name == key + "_scale" ? null : CheckpointEditor.Keep(t, d));
    }
}

/// <summary>A throwaway writable copy of any model folder.</summary>
internal sealed class TempFolderCopy : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("nt-quantize-copy-").FullName;

    public TempFolderCopy(string from)
    {
        foreach (var f in Directory.GetFiles(from))
        {
            string to = System.IO.Path.Combine(Path, System.IO.Path.GetFileName(f));
            File.Copy(f, to);
            File.SetAttributes(to, FileAttributes.Normal);
        }
    }

    public string FilePath(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
