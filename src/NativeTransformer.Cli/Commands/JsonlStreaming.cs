using System.Text.Json;
using System.Threading.Channels;

namespace NativeTransformer.Cli.Commands;

/// <summary>One input line of a --stream run: a parsed input, or the error that line produced.</summary>
internal readonly record struct StreamRecord(int Line, TextInput? Input, string? IdJson, string? Error);

/// <summary>
/// <c>--stream</c>: JSON Lines in, one JSON line out per input line, written as soon as its micro-batch is done.
/// A reader thread parses lines into a bounded channel (at most <see cref="QueuedBatches"/> batches ahead, so memory
/// stays constant on unbounded input); the model takes whatever has arrived, up to the batch size, runs it, writes
/// the results in input order and flushes. A malformed line does not stop the stream: it becomes
/// <c>{"line": n, "id"?: ..., "error": "..."}</c> in its place, and the run exits 1 at the end.
/// </summary>
internal static class JsonlStreaming
{
    public const int QueuedBatches = 2;

    public static readonly OptionSpec Option = new("--stream", null,
        "Stream JSON Lines ({\"text\", \"text_pair\"?, \"id\"?}) from stdin; each micro-batch's results are written as soon as they are ready.");

    public const string Help =
        "With --stream: input is JSON Lines {\"text\": ..., \"text_pair\"?: ..., \"id\"?: string|number}, read by a\n" +
        "separate reader; the model takes whatever lines have arrived (up to --batch-size, default 32), and their\n" +
        "results are written (in input order, echoing \"id\") and flushed as soon as that micro-batch is done. At most\n" +
        "2 batches are buffered, so memory stays constant on endless input. A bad line does not stop the stream: its\n" +
        "output line is {\"line\": n, \"id\"?: ..., \"error\": \"...\"}; the exit code is then 1 (one summary on stderr).";

    /// <summary>The --stream branch of embed/classify: runs the stream and turns failed lines into exit code 1.</summary>
    public static int RunCommand<TResult>(ParsedArgs a, CliContext ctx, int batchSize,
        Func<IReadOnlyList<TextInput>, IReadOnlyList<TResult>> compute, Action<Utf8JsonWriter, TResult> writeResult)
    {
        using var reader = LineReader.Open(a.Get("--input"), ctx.Stdin);
        var (lines, failed, first) = Run(reader, batchSize, ctx.Stdout, compute, writeResult);
        if (failed > 0)
            throw new InputException($"{failed} of {lines} input lines failed (first: line {first}); their output lines carry \"error\"");
        return CliApp.ExitOk;
    }

    /// <summary>Runs the stream; returns how many lines failed (bad input, or an input the model rejected).</summary>
    public static (int Lines, int Failed, int FirstFailedLine) Run<TResult>(LineReader reader, int batchSize, TextWriter output,
        Func<IReadOnlyList<TextInput>, IReadOnlyList<TResult>> compute, Action<Utf8JsonWriter, TResult> writeResult)
    {
        var channel = Channel.CreateBounded<StreamRecord>(new BoundedChannelOptions(QueuedBatches * batchSize)
        {
            SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = new CancellationTokenSource();
        // A dedicated thread: reading stdin blocks, and it must not hold a thread-pool thread while it does.
        var producer = Task.Factory.StartNew(() => Produce(reader, channel.Writer, stop.Token),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var json = new JsonLineWriter(output);
        var batch = new List<StreamRecord>(batchSize);
        int lines = 0, failed = 0, firstFailed = 0;
        try
        {
            while (true)
            {
                batch.Clear();
                while (batch.Count < batchSize && channel.Reader.TryRead(out var r)) batch.Add(r);
                if (batch.Count == 0)
                {
                    // Nothing has arrived: block until a line does (or the input ends; a reader failure rethrows here).
                    if (!channel.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) break;
                    continue;
                }
                foreach (var (line, error) in WriteBatch(batch, json, compute, writeResult))
                {
                    if (error && failed++ == 0) firstFailed = line;
                }
                lines += batch.Count;
                output.Flush();
            }
            channel.Reader.Completion.GetAwaiter().GetResult();
        }
        finally
        {
            stop.Cancel(); // unblocks the reader if it waits for room; a read blocked on stdin ends with the process
        }
        return (lines, failed, firstFailed);
    }

    private static void Produce(LineReader reader, ChannelWriter<StreamRecord> writer, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                StreamRecord record;
                int before = reader.LineNumber;
                try
                {
                    if (!reader.TryReadLine(out var text)) break;
                    record = Parse(text, reader.SourceName, reader.LineNumber);
                }
                catch (InputException e) when (reader.LineNumber > before)
                {
                    // The reader consumed the line before rejecting it (not UTF-8): report it and go on. Errors that
                    // leave the line unread (longer than the line limit) end the stream below.
                    record = new StreamRecord(reader.LineNumber, null, null, e.Message);
                }
                while (!writer.TryWrite(record))
                    if (!writer.WaitToWriteAsync(stop).AsTask().GetAwaiter().GetResult()) return;
            }
            writer.TryComplete();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { writer.TryComplete(); }
        catch (Exception e) { writer.TryComplete(e); } // e.g. an over-long line or an I/O error: the run ends after what was read
    }

    /// <summary>Parses one record {"text", "text_pair"?, "id"?}; id (a string or number) is echoed verbatim.</summary>
    internal static StreamRecord Parse(string text, string source, int line)
    {
        string where = $"{source}: line {line}";
        if (string.IsNullOrWhiteSpace(text))
            return new StreamRecord(line, null, null, $"{where}: empty line; every line must be a JSON object {{\"text\": ...}}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e) { return new StreamRecord(line, null, null, $"{where}: invalid JSON: {InputParsing.OneLine(e.Message)}"); }
        using (doc)
        {
            string? id = null;
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("id", out var idValue))
            {
                if (idValue.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
                    return new StreamRecord(line, null, null, $"{where}: \"id\" must be a string or a number");
                id = idValue.GetRawText();
            }
            try { return new StreamRecord(line, InputParsing.FromJsonObject(doc.RootElement, where, allowId: true), id, null); }
            catch (InputException e) { return new StreamRecord(line, null, id, e.Message); }
        }
    }

    /// <summary>Computes the good records of a batch in one model call and writes every record in order.
    /// When the model rejects the batch, each input is retried alone so only the bad one becomes an error.</summary>
    private static List<(int Line, bool Error)> WriteBatch<TResult>(List<StreamRecord> batch, JsonLineWriter json,
        Func<IReadOnlyList<TextInput>, IReadOnlyList<TResult>> compute, Action<Utf8JsonWriter, TResult> writeResult)
    {
        var inputs = new List<TextInput>(batch.Count);
        foreach (var r in batch) if (r.Input is { } input) inputs.Add(input);
        var results = new (TResult? Value, string? Error)[inputs.Count];
        if (inputs.Count > 0)
        {
            try
            {
                var computed = compute(inputs);
                for (int i = 0; i < inputs.Count; i++) results[i] = (computed[i], null);
            }
            catch (NativeTransformerException) when (inputs.Count > 1)
            {
                for (int i = 0; i < inputs.Count; i++)
                {
                    try { results[i] = (compute([inputs[i]])[0], null); }
                    catch (NativeTransformerException e) { results[i] = (default, e.Message); }
                }
            }
            catch (NativeTransformerException e) { results[0] = (default, e.Message); }
        }

        var outcome = new List<(int, bool)>(batch.Count);
        int next = 0;
        foreach (var r in batch)
        {
            string? error = r.Error;
            TResult? value = default;
            if (r.Input is not null) (value, error) = results[next++];
            var w = json.Begin();
            w.WriteStartObject();
            if (error is not null) w.WriteNumber("line", r.Line);
            if (r.IdJson is not null) { w.WritePropertyName("id"); w.WriteRawValue(r.IdJson, skipInputValidation: true); }
            if (error is not null) w.WriteString("error", error);
            else
            {
                JsonValues.Input(w, r.Input!.Value);
                writeResult(w, value!);
            }
            w.WriteEndObject();
            json.End();
            outcome.Add((r.Line, error is not null));
        }
        return outcome;
    }
}
