using NativeTransformer.Models;
using NativeTransformer.Tasks;
using NativeTransformer.Tokenization;

namespace NativeTransformer;

/// <summary>
/// The encoded rows of a call's inputs under <see cref="LoadOptions.Overflow"/>: one row per input, or with
/// <see cref="OverflowMode.Window"/> one row per window of a long input. Input i's rows are Rows[First[i] .. First[i + 1]),
/// each with the number of text tokens it owns (<see cref="WindowPooling.OwnedTokens"/>) in Weights.
/// </summary>
internal sealed record InputRows(Encoding[] Rows, int[] First, int[] Weights, bool[] Truncated)
{
    public int Windows(int input) => First[input + 1] - First[input];

    /// <summary>Tokens input i ran as (special tokens included, summed over its windows).</summary>
    public int Tokens(int input)
    {
        int sum = 0;
        for (int r = First[input]; r < First[input + 1]; r++) sum += Rows[r].Length;
        return sum;
    }
}

/// <summary>Long inputs: truncate and say so, refuse, or run in windows (docs/long-documents.md).</summary>
public sealed partial class TransformerModel
{
    /// <summary>The overflow mode of this load (<see cref="LoadOptions.Overflow"/>).</summary>
    public OverflowMode Overflow => _options.Overflow;

    /// <summary>Tokenizes <paramref name="inputs"/> by <see cref="LoadOptions.Overflow"/>. A text pair is windowed over its
    /// second text (the first, e.g. a query, is repeated in every window), as Hugging Face's <c>only_second</c>.</summary>
    /// <exception cref="InputException">An input is null; with Error, an input is too long; with Window, the first text
    /// of a pair leaves no room for the second.</exception>
    internal InputRows Rows(IReadOnlyList<TextInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rows = new List<Encoding>(inputs.Count);
        var weights = new List<int>(inputs.Count);
        var first = new int[inputs.Count + 1];
        var truncated = new bool[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            first[i] = rows.Count;
            var input = inputs[i];
            if (input.Text is null) throw new InputException($"input {i}: text is null");
            if (_options.Overflow == OverflowMode.Truncate)
            {
                var row = Tokenizer.Encode(input.Text, input.TextPair, MaxLength);
                truncated[i] = row.Truncated;
                rows.Add(row);
                weights.Add(1);
                continue;
            }
            // Untruncated: the same encoding as with MaxLength when it fits, and the whole text when it does not.
            var full = Tokenizer.Encode(input.Text, input.TextPair, null);
            if (full.Length <= MaxLength) { rows.Add(full); weights.Add(1); continue; }
            if (_options.Overflow == OverflowMode.Error) throw TooLong(i, full.Length);
            int segment = input.TextPair is null ? 0 : 1;
            var windows = OverflowWindows.Split(full, segment, MaxLength, WindowStride(full, segment), out var ranges);
            rows.AddRange(windows);
            weights.AddRange(WindowPooling.OwnedTokens(ranges));
        }
        first[inputs.Count] = rows.Count;
        return new InputRows(rows.ToArray(), first, weights.ToArray(), truncated);
    }

    private InputException TooLong(int input, int tokens) => new(
        $"input {input} has {tokens} tokens, more than this model's max length of {MaxLength} (overflow mode 'error'); " +
        "use overflow 'window' to run it in overlapping windows and combine them, or 'truncate' to cut it " +
        "(LoadOptions.Overflow; ntr: --overflow window|truncate)") { InputIndex = input };

    /// <summary><see cref="LoadOptions.OverflowStride"/>, or min(128, half the room a window has for the segment).</summary>
    private int WindowStride(Encoding full, int segment)
    {
        if (_options.OverflowStride is int stride) return stride;
        int count = 0;
        foreach (int s in full.SequenceIds) if (s == segment) count++;
        int room = MaxLength - (full.Length - count);
        return Math.Clamp(room / 2, 0, 128);
    }

    /// <summary>Runs the encoder over <paramref name="rows"/> in length-sorted batches; <paramref name="consume"/> gets each
    /// batch, its state and the row index of each batch row.</summary>
    private void RunRows(Encoding[] rows, Action<EncodedBatch, RunState, int[]> consume) => RunRows(rows, null, null, consume);

    /// <summary><see cref="RunRows(Encoding[], Action{EncodedBatch, RunState, int[]})"/> over a call's <see cref="InputRows"/>, with
    /// Longformer's global attention from each row's input (<see cref="TextInput.GlobalAttention"/>). Positions name tokens of
    /// the whole input, so an input that names them and runs in several windows is refused rather than guessed at.</summary>
    private void RunRows(InputRows rows, IReadOnlyList<TextInput> inputs, Action<EncodedBatch, RunState, int[]> consume)
    {
        // No input names positions (every call but Longformer ones that do): each batch keeps the encoder's default, so
        // there is nothing to map or scan per batch.
        if (!inputs.Any(input => input.GlobalAttention is not null)) { RunRows(rows.Rows, null, null, consume); return; }
        var rowInput = new int[rows.Rows.Length];
        for (int i = 0; i < inputs.Count; i++)
        {
            if (rows.Windows(i) > 1 && inputs[i].GlobalAttention is not null)
                throw new InputException($"input {i}: global attention positions cannot be used with overflow 'window' on an input " +
                    $"that runs in {rows.Windows(i)} windows (positions name tokens of the whole input)") { InputIndex = i };
            for (int r = rows.First[i]; r < rows.First[i + 1]; r++) rowInput[r] = i;
        }
        RunRows(rows.Rows, inputs, rowInput, consume);
    }

    private void RunRows(Encoding[] rows, IReadOnlyList<TextInput>? inputs, int[]? rowInput, Action<EncodedBatch, RunState, int[]> consume)
    {
        foreach (var index in Batching.ByLength(rows, _options.BatchSize))
        {
            CallCancellation.BeforeBatch(); // an async call's token: stop between batches, before renting a state
            var batch = PostProcessor.Pad(index.Select(i => rows[i]).ToArray(), Tokenizer.PadId);
            if (inputs is not null) batch = WithGlobalAttention(batch, inputs, index.Select(r => rowInput![r]).ToArray(), always: false);
            var state = Rent(batch.BatchSize, batch.SeqLen);
            try
            {
                _encoder.Forward(state, batch);
                consume(batch, state, index);
            }
            finally { _states.Add(state); }
        }
    }

    /// <summary>Per input, the token-weighted mean of its rows' vectors (<see cref="WindowPooling.WeightedMean"/>; one row:
    /// the row itself), each <paramref name="size"/> floats.</summary>
    internal static float[][] CombineWindows(InputRows rows, float[][] perRow, int size)
    {
        var result = new float[rows.First.Length - 1][];
        for (int i = 0; i < result.Length; i++)
        {
            int from = rows.First[i], n = rows.Windows(i);
            result[i] = new float[size];
            WindowPooling.WeightedMean(new ArraySegment<float[]>(perRow, from, n), new ArraySegment<int>(rows.Weights, from, n), result[i]);
        }
        return result;
    }
}

/// <summary>Overflow mode names as the CLI spells them.</summary>
public static class OverflowModes
{
    public static readonly string[] Names = ["truncate", "error", "window"];

    /// <summary>Parses truncate|error|window; anything else is an <see cref="InputException"/> listing them.</summary>
    public static OverflowMode Parse(string name)
    {
        int i = Array.IndexOf(Names, name);
        return i >= 0 ? (OverflowMode)i
            : throw new InputException($"unknown overflow mode '{name}'; expected one of {string.Join(", ", Names)}");
    }
}
