using Microsoft.ML.OnnxRuntime;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Bench.Peers;

/// <summary>ONNX Runtime (Microsoft.ML.OnnxRuntime, CPU provider) running a BERT ONNX file on batches tokenized by our
/// tokenizer: the same ids, mask and type ids our engine gets.</summary>
internal sealed class OrtEncoder : IDisposable
{
    public const string IsaNote = "MLAS (ORT's own CPU dispatch)";
    private readonly InferenceSession _session;
    private readonly bool _hasTypeIds;
    private readonly string _output;

    public OrtEncoder(string onnxPath, int threads)
    {
        _session = new InferenceSession(onnxPath, Options(threads));
        _hasTypeIds = _session.InputMetadata.ContainsKey("token_type_ids");
        _output = _session.OutputMetadata.ContainsKey("last_hidden_state") ? "last_hidden_state" : _session.OutputMetadata.Keys.First();
    }

    /// <summary>The settings every ORT peer uses (node runner too): T intra-op threads, 1 inter-op, sequential, all
    /// graph optimisations.</summary>
    public static SessionOptions Options(int threads) => new()
    {
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    public static string Version => typeof(InferenceSession).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "?";

    /// <summary>The last hidden state [B, S, H] of <paramref name="batch"/>, flattened.</summary>
    public float[] LastHiddenState(EncodedBatch batch)
    {
        long[] shape = [batch.BatchSize, batch.SeqLen];
        using var ids = OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(batch.InputIds, v => (long)v), shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(batch.AttentionMask, v => (long)v), shape);
        using var types = OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(batch.TypeIds, v => (long)v), shape);
        var names = _hasTypeIds ? new[] { "input_ids", "attention_mask", "token_type_ids" } : new[] { "input_ids", "attention_mask" };
        var values = _hasTypeIds ? new[] { ids, mask, types } : new[] { ids, mask };
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, names, values, [_output]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Mean over attended tokens, then L2 normalisation (all-MiniLM-L6-v2's Pooling + Normalize modules).</summary>
    public static float[][] MeanPoolNormalize(float[] hidden, EncodedBatch batch, int h)
    {
        var result = new float[batch.BatchSize][];
        for (int b = 0; b < batch.BatchSize; b++)
        {
            var v = new double[h];
            int count = 0;
            for (int s = 0; s < batch.SeqLen; s++)
            {
                if (batch.AttentionMask[b * batch.SeqLen + s] == 0) continue;
                count++;
                int o = (b * batch.SeqLen + s) * h;
                for (int j = 0; j < h; j++) v[j] += hidden[o + j];
            }
            double norm = 0;
            for (int j = 0; j < h; j++) { v[j] /= Math.Max(count, 1); norm += v[j] * v[j]; }
            norm = Math.Max(Math.Sqrt(norm), 1e-12);
            result[b] = new float[h];
            for (int j = 0; j < h; j++) result[b][j] = (float)(v[j] / norm);
        }
        return result;
    }

    public void Dispose() => _session.Dispose();
}
