using NativeTransformer.Weights;

namespace NativeTransformer.Cli.Commands;

/// <summary><c>ntr encode</c>: runs all inputs as one batch and writes every tensor to a safetensors file.</summary>
internal static class EncodeCommand
{
    public const string Name = "encode";

    public static readonly CommandSpec Spec = new(
        Name,
        "Run the encoder on a batch and write token ids, every hidden state and the heads' outputs to safetensors.",
        "ntr encode [--model DIR|OWNER/NAME] --input IN.json --output OUT.safetensors [--max-length N] [--threads N] [--batch-size N] [--int8]",
        [Common.Model,
         new("--input", "FILE", "JSON array of {\"text\": ..., \"text_pair\": ..., \"global_attention\": [positions]} objects (text_pair optional;\n" +
             "global_attention: Longformer only, token positions incl. special tokens, default [0] for classifiers). Required."),
         new("--output", "FILE", "safetensors file to write (replaced atomically). Required."),
         .. Common.LoadOptionSpecs],
        Details:
            "All inputs run as ONE right-padded batch. The file holds input_ids, attention_mask, token_type_ids\n" +
            "(I64 [batch, seq]); hidden_states.0 (embedding output) ... hidden_states.L (F32 [batch, seq, hidden]);\n" +
            "pooler_output (F32 [batch, hidden]) when the model has a pooler; logits (F32 [batch, labels]) for\n" +
            "sequence classifiers, (F32 [batch, seq, labels]) for token classifiers; scores (F32 [batch]) for one-logit heads\n" +
            "(cross-encoders: sigmoid(logit), or the logit for problem_type regression / an Identity activation);\n" +
            "start_logits and end_logits (F32 [batch, seq]) for question-answering models; embeddings (F32 [batch, hidden])\n" +
            "when the folder has a sentence-transformers pooling config; global_attention_mask (I64 [batch, seq]) for Longformer.\n" +
            "Metadata: format=pt, producer=ntr. --batch-size is accepted like elsewhere but encode always runs one batch.\n" +
            "The input is validated before the model loads; a wrong shape is an error naming the item index.");

    public static int Run(ParsedArgs a, CliContext ctx)
    {
        var options = Common.LoadOptions(a);
        string input = a.Required("--input");
        string output = a.Required("--output");
        string dir = Common.ModelDir(a, ctx);

        List<TextInput> inputs;
        if (input == "-")
        {
            // JsonDocument validates UTF-8 itself, so read raw bytes when stdin is a byte stream.
            Stream stdin = ctx.Stdin is StreamReader sr
                ? sr.BaseStream
                : new MemoryStream(System.Text.Encoding.UTF8.GetBytes(ctx.Stdin.ReadToEnd()));
            inputs = InputParsing.ParseEncodeInput(stdin, "<stdin>");
        }
        else
        {
            using var file = LineReader.OpenFile(input);
            inputs = InputParsing.ParseEncodeInput(file, input);
        }
        string? outDir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (outDir is not null && !Directory.Exists(outDir))
            throw new InputException($"{output}: output folder {outDir} does not exist");
        if (Directory.Exists(output)) throw new InputException($"{output}: is a directory, expected a file path");

        using var model = TransformerModel.Load(dir, options);
        var result = model.Encode(inputs);
        SafetensorsWriter.Write(output, BuildTensors(result), Metadata);
        return CliApp.ExitOk;
    }

    internal static readonly IReadOnlyDictionary<string, string> Metadata =
        new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "ntr" };

    /// <summary>The tensors of an <see cref="EncodeResult"/>, in file order, with their shapes checked.</summary>
    internal static List<TensorToWrite> BuildTensors(EncodeResult r)
    {
        var batch = r.Batch;
        long b = batch.BatchSize, s = batch.SeqLen, h = r.HiddenSize;
        var list = new List<TensorToWrite>
        {
            I64("input_ids", [b, s], batch.InputIds),
            I64("attention_mask", [b, s], batch.AttentionMask),
            I64("token_type_ids", [b, s], batch.TypeIds),
        };
        if (batch.GlobalAttention is { } global) list.Add(I64("global_attention_mask", [b, s], global));
        for (int i = 0; i < r.HiddenStates.Length; i++)
            list.Add(F32($"hidden_states.{i}", [b, s, h], r.HiddenStates[i]));
        if (r.PoolerOutput is { } pooler) list.Add(F32("pooler_output", [b, h], pooler));
        if (r.Logits is { } logits) list.Add(F32("logits", r.LogitsPerToken ? [b, s, r.NumLabels] : [b, r.NumLabels], logits));
        if (r.StartLogits is { } start) list.Add(F32("start_logits", [b, s], start));
        if (r.EndLogits is { } end) list.Add(F32("end_logits", [b, s], end));
        if (r.Scores is { } scores) list.Add(F32("scores", [b], scores));
        if (r.Embeddings is { } emb) list.Add(F32("embeddings", [b, b == 0 ? h : emb.Length / b], emb)); // width: hidden, or a Dense module's out_features
        return list;
    }

    private static TensorToWrite F32(string name, long[] shape, float[] values) => TensorToWrite.FromFloat32(name, shape, values);

    private static TensorToWrite I64(string name, long[] shape, int[] values) =>
        TensorToWrite.FromInt64(name, shape, Array.ConvertAll(values, v => (long)v));
}
