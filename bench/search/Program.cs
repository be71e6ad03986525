using System.Diagnostics;
using NativeTransformer;

// Exact top-k search over N unit vectors of D dimensions (fixed seed; speed does not depend on the values) in float32
// (cosine), int8 (int8 dot) and binary (Hamming): build time, bytes stored, and per-query latency (median of R rounds of
// Q queries, one thread). Usage: [N] [D] [K] [Q] [R]; defaults 100000 384 10 20 5.
int n = Arg(0, 100_000), d = Arg(1, 384), k = Arg(2, 10), q = Arg(3, 20), rounds = Arg(4, 5);
var rng = new Random(42);
var vectors = new float[n][];
for (int i = 0; i < n; i++) vectors[i] = Unit(rng, d);
var queries = Enumerable.Range(0, q).Select(_ => Unit(rng, d)).ToArray();

Console.WriteLine($"corpus {n} x {d}, top-{k}, {q} queries x {rounds} rounds, 1 thread, {Environment.ProcessorCount} cpus");
Console.WriteLine("| precision | stored | build | per query (median) | queries/s |");
Console.WriteLine("|---|---|---|---|---|");
Run("float32 cosine", () => EmbeddingCorpus.Float32(vectors), c => c.Search(queries[0], k));
Run("float32 dot", () => EmbeddingCorpus.Float32(vectors), c => c.Search(queries[0], k, SimilarityMetric.Dot), metric: SimilarityMetric.Dot);
Run("int8", () => EmbeddingCorpus.Int8(vectors), c => c.Search(queries[0], k));
Run("int8 + rescore x4", () => EmbeddingCorpus.Int8(vectors), c => c.Search(queries[0], k), rescore: 4);
Run("binary", () => EmbeddingCorpus.Binary(vectors), c => c.Search(queries[0], k));
Run("binary + rescore x4", () => EmbeddingCorpus.Binary(vectors), c => c.Search(queries[0], k), rescore: 4);

void Run(string name, Func<EmbeddingCorpus> build, Action<EmbeddingCorpus> warm, int rescore = 1, SimilarityMetric metric = SimilarityMetric.Cosine)
{
    var sw = Stopwatch.StartNew();
    var corpus = build();
    double buildMs = sw.Elapsed.TotalMilliseconds;
    warm(corpus);
    var perQuery = new List<double>();
    for (int r = 0; r < rounds; r++)
    {
        sw.Restart();
        foreach (var query in queries) corpus.Search(query, k, metric, rescore);
        perQuery.Add(sw.Elapsed.TotalMilliseconds / q);
    }
    perQuery.Sort();
    double median = perQuery[perQuery.Count / 2];
    Console.WriteLine($"| {name} | {corpus.StorageBytes / 1e6:F1} MB | {buildMs:F0} ms | {median:F2} ms | {1000 / median:F0} |");
}

int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i]) : fallback;

static float[] Unit(Random rng, int d)
{
    var v = new float[d];
    double norm = 0;
    for (int i = 0; i < d; i++) { v[i] = (float)(rng.NextDouble() * 2 - 1); norm += v[i] * v[i]; }
    for (int i = 0; i < d; i++) v[i] /= (float)Math.Sqrt(norm);
    return v;
}
