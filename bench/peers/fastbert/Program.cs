// Speed peer of `ntr bench --tokenizer`: FastBertTokenizer 1.2.6 encodes every sentence of the same file (GLUE TSV
// "sentence" column, or every line), one thread, same passes and the same JSON keys. FastBertTokenizer writes ids,
// attention mask and type ids into caller spans and computes no offsets or token strings (ours does both).
// Usage: dotnet run -c Release -- MODEL_DIR FILE [PASSES]   (MODEL_DIR holds tokenizer.json, or vocab.txt: lowercase)
using System.Diagnostics;
using FastBertTokenizer;

string dir = args[0], file = args[1];
int? passes = args.Length > 2 ? int.Parse(args[2]) : null;
var lines = File.ReadAllLines(file);
string[] sentences;
int col = lines.Length > 0 && lines[0].Contains('\t') ? Array.IndexOf(lines[0].Split('\t'), "sentence") : -1;
sentences = col >= 0 ? lines.Skip(1).Select(l => l.Split('\t')[col]).ToArray() : lines;

var tok = new BertTokenizer();
string json = Path.Combine(dir, "tokenizer.json");
if (File.Exists(json)) { using var s = File.OpenRead(json); tok.LoadTokenizerJson(s); }
else { using var r = File.OpenText(Path.Combine(dir, "vocab.txt")); tok.LoadVocabulary(r, true); }

var ids = new long[512]; var mask = new long[512]; var types = new long[512];
long Pass()
{
    long n = 0;
    foreach (var s in sentences) n += tok.Encode(s, ids, mask, types);
    return n;
}
long tokens = Pass();
var seconds = new List<double>();
var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
var total = Stopwatch.StartNew();
while (passes is { } p ? seconds.Count < p : seconds.Count < 3 || (total.Elapsed.TotalSeconds < 2 && seconds.Count < 1000))
{
    long t0 = Stopwatch.GetTimestamp();
    Pass();
    seconds.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
}
double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
double cpuRate = (double)sentences.Length * seconds.Count / cpuSeconds;
seconds.Sort();
double median = seconds[(seconds.Count - 1) / 2];
Console.WriteLine($"{{\"sentences_per_s\":{sentences.Length / median:F0},\"tokens_per_s\":{tokens / median:F0},\"threads\":1,\"cpu_sentences_per_s\":{cpuRate:F0},\"tokenizer\":\"FastBertTokenizer 1.2.6\",\"sentences\":{sentences.Length},\"tokens_per_pass\":{tokens},\"passes\":{seconds.Count},\"median_pass_ms\":{median * 1000:F3}}}");
