using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using NativeTransformer.Cli;
using NativeTransformer.Cli.Commands;

namespace NativeTransformer.Tests.Cli;

/// <summary><c>ntr embed|classify --stream</c>: results leave as their micro-batch completes, in order, with bounded buffering.</summary>
public sealed class StreamingTests
{
    private static readonly string Model = TestPaths.Model("bert-tiny-sst2");

    /// <summary>stdin fed line by line by the test; ReadLine blocks until the test supplies a line or closes it.</summary>
    private sealed class PipeReader : TextReader
    {
        private readonly BlockingCollection<string> _lines = new();
        public void Send(string line) => _lines.Add(line);
        public void Close_() => _lines.CompleteAdding();
        public override string? ReadLine() => _lines.TryTake(out var l, Timeout.Infinite) ? l : null;
    }

    /// <summary>stdout whose lines become visible only when flushed, as on a pipe; records when each line was seen.</summary>
    private sealed class FlushRecordingWriter : TextWriter
    {
        private readonly StringBuilder _pending = new();
        private readonly BlockingCollection<string> _visible = new();
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) { lock (_pending) _pending.Append(value); }
        public override void Write(string? value) { lock (_pending) _pending.Append(value); }
        public override void Flush()
        {
            lock (_pending)
            {
                var s = _pending.ToString();
                int end = s.LastIndexOf('\n');
                if (end < 0) return;
                foreach (var line in s[..end].Split('\n')) _visible.Add(line);
                _pending.Remove(0, end + 1);
            }
        }
        public string Next(TimeSpan timeout) =>
            _visible.TryTake(out var l, timeout) ? l : throw new TimeoutException("no output line within " + timeout);
        public int Count => _visible.Count;
    }

    [Fact]
    public async Task ResultsAppearBeforeStdinClosesInInputOrderWithBadLinesInPlace()
    {
        var stdin = new PipeReader();
        var stdout = new FlushRecordingWriter();
        var stderr = new StringWriter();
        var run = Task.Run(() => CliApp.Run(["classify", "--stream", "--model", Model, "--batch-size", "4"], stdin, stdout, stderr));
        var wait = TimeSpan.FromSeconds(30);

        // One line in, one result out, while stdin is still open: the batch does not wait to fill up.
        stdin.Send("""{"text": "a gorgeous, witty movie", "id": 1}""");
        using (var first = JsonDocument.Parse(stdout.Next(wait)))
        {
            Assert.Equal(1, first.RootElement.GetProperty("id").GetInt32());
            Assert.Equal("positive", first.RootElement.GetProperty("label").GetString());
        }

        // A slow producer: lines trickle in, some bad; every output line is in input order.
        string[] lines =
        [
            """{"text": "boring and lifeless", "id": "two"}""",
            "this is not json",
            """{"text": "fine", "text_pair": "really fine", "id": 4}""",
            """{"text": 5, "id": 5}""",
            "",
            """{"text": "the best film of the year", "id": 7}""",
        ];
        foreach (var l in lines) { await Task.Delay(15); stdin.Send(l); }
        await Task.Delay(50);
        stdin.Close_();
        int code = await run.WaitAsync(wait);

        var outputs = Enumerable.Range(0, lines.Length).Select(_ => JsonDocument.Parse(stdout.Next(wait)).RootElement).ToArray();
        Assert.Equal(0, stdout.Count);
        Assert.Equal("two", outputs[0].GetProperty("id").GetString());
        Assert.Equal("negative", outputs[0].GetProperty("label").GetString());
        Assert.Equal(3, outputs[1].GetProperty("line").GetInt32());
        Assert.Contains("invalid JSON", outputs[1].GetProperty("error").GetString());
        Assert.Equal("really fine", outputs[2].GetProperty("text_pair").GetString());
        Assert.Equal(5, outputs[3].GetProperty("line").GetInt32());
        Assert.Equal(5, outputs[3].GetProperty("id").GetInt32()); // the id survives a bad record
        Assert.Contains("\"text\" must be a string", outputs[3].GetProperty("error").GetString());
        Assert.Equal(6, outputs[4].GetProperty("line").GetInt32());
        Assert.Equal(7, outputs[5].GetProperty("id").GetInt32());
        Assert.Equal("positive", outputs[5].GetProperty("label").GetString());

        // Bad lines make the run fail at the end, with one summary line.
        Assert.Equal(CliApp.ExitError, code);
        Assert.Equal("ntr: error: 3 of 7 input lines failed (first: line 3); their output lines carry \"error\"\n", stderr.ToString());
    }

    [Fact]
    public void StreamedEmbeddingsEqualTheBatchCommandsAndInvalidUtf8IsOneBadLine()
    {
        string[] texts = ["a gorgeous, witty movie", "boring and lifeless", "ok", "the best film of the year", "meh"];
        var plain = CliRunner.RunWithStdin(string.Join('\n', texts) + "\n", "embed", "--model", Model);
        Assert.Equal(0, plain.ExitCode);

        var bytes = new List<byte>();
        for (int i = 0; i < texts.Length; i++)
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = texts[i] }) + "\n"));
            if (i == 1) bytes.AddRange(new byte[] { (byte)'{', 0xFF, 0xFE, (byte)'}', (byte)'\n' });
        }
        var streamed = CliRunner.RunWithStdinBytes(bytes.ToArray(), "embed", "--stream", "--batch-size", "2", "--model", Model);
        streamed.AssertOneLineError(1, "1 of 6 input lines failed (first: line 3)");

        var good = streamed.StdoutLines.Where(l => !l.Contains("\"error\"")).ToArray();
        Assert.Equal(plain.StdoutLines, good);
        Assert.Contains("not valid UTF-8", streamed.StdoutLines[2]);
        Assert.StartsWith("{\"line\":3,", streamed.StdoutLines[2]);
    }

    /// <summary>20k lines from an endless-style generator: the reader is never more than the bounded channel
    /// plus the batch in flight ahead of the output, so memory does not grow with the input.</summary>
    [Fact]
    public void BufferingIsBoundedOnLongInput()
    {
        const int Lines = 20_000, Batch = 16;
        string padding = new('x', 200);
        int produced = 0, written = 0, maxAhead = 0;
        var input = new GeneratorReader(Lines, i => { Interlocked.Increment(ref produced); return $"{{\"text\": \"{padding}\", \"id\": {i}}}"; });
        var output = new CountingWriter(() =>
        {
            written++;
            maxAhead = Math.Max(maxAhead, Volatile.Read(ref produced) - written);
        });
        using var reader = new LineReader(input, "<gen>");
        var (lines, failed, _) = JsonlStreaming.Run(reader, Batch, output,
            inputs => { Thread.SpinWait(200); return inputs.Select(t => t.Text.Length).ToArray(); },
            (w, n) => w.WriteNumber("n", n));

        Assert.Equal(Lines, lines);
        Assert.Equal(0, failed);
        Assert.Equal(Lines, written);
        // channel (QueuedBatches × Batch) + the batch being computed + the line the reader holds while it waits.
        Assert.InRange(maxAhead, 1, (JsonlStreaming.QueuedBatches + 1) * Batch + 1);
        Assert.True(output.Flushes >= Lines / Batch, $"flushed {output.Flushes} times: once per micro-batch expected");
    }

    private sealed class GeneratorReader(int count, Func<int, string> line) : TextReader
    {
        private int _next;
        public override string? ReadLine() => _next < count ? line(_next++) : null;
    }

    private sealed class CountingWriter(Action onLine) : TextWriter
    {
        public int Flushes;
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) { if (value == '\n') onLine(); }
        public override void Write(string? value) { }
        public override void Flush() => Flushes++;
    }
}
