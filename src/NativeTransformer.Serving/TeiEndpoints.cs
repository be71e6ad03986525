using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace NativeTransformer.Serving;

/// <summary>
/// The text-embeddings-inference (TEI) compatible routes (/embed, /predict, /rerank, /similarity, /tokenize, /decode, /info) beside
/// the OpenAI ones, on the same batcher, cache and limits. Errors are TEI's {"error", "error_type"} (see
/// <see cref="ServeHost"/>); an input longer than the model's max length is a 422 unless "truncate" is true: never cut silently.
/// </summary>
internal sealed class TeiEndpoints(ServeState state, Endpoints api)
{
    /// <summary>The routes answered with TEI's error shape.</summary>
    public static readonly string[] Paths = ["/embed", "/embed_all", "/predict", "/rerank", "/similarity", "/tokenize", "/decode", "/info"];

    public async Task Embed(HttpContext ctx)
    {
        var r = await api.ParseBodyAsync(ctx, body => TeiRequests.ParseTexts(body, state.Options)).ConfigureAwait(false);
        var vectors = await EmbedAsync(ctx, r).ConfigureAwait(false);
        for (int i = 0; i < vectors.Length; i++)
        {
            int d = r.Dimensions ?? vectors[i].Length;
            CheckDimensions(d, vectors[i].Length);
            // Normalised: the library's Matryoshka truncation (a prefix scaled to unit norm; d = the size just normalises).
            if (r.Normalize) vectors[i] = EmbeddingDimensions.Truncate(vectors[i], d);
            else if (d < vectors[i].Length) vectors[i] = vectors[i][..d];
        }
        await Write(ctx, vectors).ConfigureAwait(false);
    }

    /// <summary>POST /embed_all: every token's last hidden state ([tokens][hidden] per input, special tokens included), no
    /// pooling. Not through the batcher (its results are per token, not per input): one padded forward pass per request,
    /// under a --max-concurrency slot; the library is batch-invariant, so padding does not change the values.</summary>
    public async Task EmbedAll(HttpContext ctx)
    {
        var r = await api.ParseBodyAsync(ctx, body => TeiRequests.ParseTexts(body, state.Options)).ConfigureAwait(false);
        var entry = Find(r.Model);
        await CheckAsync(ctx, entry, r.Inputs, r.Truncate, _ => 0).ConfigureAwait(false);
        using var cts = api.Deadline(ctx);
        await state.Concurrency.WaitAsync(cts.Token).ConfigureAwait(false);
        float[][][] tokens;
        try
        {
            using var lease = await entry.AcquireAsync(cts.Token).ConfigureAwait(false);
            long started = Stopwatch.GetTimestamp();
            var result = await Task.Run(() => lease.Model.Encode(r.Inputs), cts.Token).ConfigureAwait(false);
            state.Metrics.InferenceTime.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            var last = result.HiddenStates[^1];
            int h = result.HiddenSize, seq = result.Batch.SeqLen;
            tokens = new float[r.Inputs.Length][][];
            for (int i = 0; i < tokens.Length; i++)
            {
                tokens[i] = new float[result.Batch.Lengths[i]][];
                for (int t = 0; t < tokens[i].Length; t++) tokens[i][t] = last.AsSpan((i * seq + t) * h, h).ToArray();
            }
        }
        finally { state.Concurrency.Release(); }
        await Write(ctx, tokens).ConfigureAwait(false);
    }

    /// <summary>Cosine similarity of the source sentence with each sentence, in double precision.</summary>
    public async Task Similarity(HttpContext ctx)
    {
        var r = await api.ParseBodyAsync(ctx, body => TeiRequests.ParseSimilarity(body, state.Options)).ConfigureAwait(false);
        var vectors = await EmbedAsync(ctx, r).ConfigureAwait(false);
        var scores = new float[vectors.Length - 1];
        for (int i = 0; i < scores.Length; i++) scores[i] = VectorSimilarity.Cosine(vectors[0], vectors[i + 1]);
        await Write(ctx, scores).ConfigureAwait(false);
    }

    public async Task Predict(HttpContext ctx)
    {
        var r = await api.ParseBodyAsync(ctx, body => TeiRequests.ParsePredict(body, state.Options)).ConfigureAwait(false);
        var entry = Find(r.Model);
        string[] labels = await CheckAsync(ctx, entry, r.Inputs, r.Truncate, model =>
        {
            if (!model.HasClassifier) throw NotSupported($"model '{entry.Name}' has no classification head; /predict needs a sequence classifier");
            return LabelNames(model);
        }).ConfigureAwait(false);
        var results = await api.InferAsync(ctx, entry, TaskKind.Classify, r.Inputs).ConfigureAwait(false);
        var predictions = new TeiPrediction[results.Length][];
        for (int i = 0; i < results.Length; i++)
        {
            var c = results[i].Classification!;
            var values = r.RawScores ? c.Logits : c.Scores;
            // Best first (TEI's order), by score; ties keep label order.
            var order = Enumerable.Range(0, values.Length).OrderByDescending(k => c.Scores[k]).ThenBy(k => k).ToArray();
            predictions[i] = Array.ConvertAll(order, k => new TeiPrediction(labels[k], values[k]));
        }
        if (r.Batched) await Write(ctx, predictions).ConfigureAwait(false);
        else await Write(ctx, predictions[0]).ConfigureAwait(false);
    }

    public async Task Rerank(HttpContext ctx)
    {
        var r = await api.ParseBodyAsync(ctx, body => TeiRequests.ParseRerank(body, state.Options)).ConfigureAwait(false);
        var entry = Find(r.Model);
        var pairs = Array.ConvertAll(r.Inputs, t => new TextInput(r.Query, t.Text));
        await CheckAsync(ctx, entry, pairs, r.Truncate, model =>
        {
            if (!model.HasClassifier || model.NumLabels != 1)
                throw NotSupported($"model '{entry.Name}' is not a reranker: /rerank needs a cross-encoder (a sequence classifier with one logit)" +
                    (model.HasClassifier ? $", it has {model.NumLabels} labels" : ", it has no classification head"));
            return 0;
        }).ConfigureAwait(false);
        var results = await api.InferAsync(ctx, entry, TaskKind.Rerank, pairs).ConfigureAwait(false);
        var logits = Array.ConvertAll(results, x => x.Classification!.Logits[0]);
        var ranks = Array.ConvertAll(TransformerModel.RerankOrder(logits), i =>
            new TeiRank(i, r.RawScores ? logits[i] : results[i].Classification!.Score, r.ReturnText ? r.Inputs[i].Text : null));
        await Write(ctx, ranks).ConfigureAwait(false);
    }

    /// <summary>Tokens with their ids, TEI's "special" flag and UTF-8 byte offsets into the input (null for special tokens); no truncation.</summary>
    public async Task Tokenize(HttpContext ctx)
    {
        var r = await api.ParseBodyAsync(ctx, body => TeiRequests.ParseTexts(body, state.Options)).ConfigureAwait(false);
        var entry = Find(r.Model);
        var tokens = await WithModelAsync(ctx, entry, model => Array.ConvertAll(r.Inputs, input =>
        {
            var e = Encode(model, input, null);
            var list = new List<TeiToken>(e.Length);
            for (int t = 0; t < e.Length; t++)
            {
                if (e.SequenceIds[t] < 0)
                {
                    if (r.AddSpecialTokens) list.Add(new TeiToken(e.Ids[t], e.Tokens[t], true, null, null));
                    continue;
                }
                var (start, end) = e.Offsets[t];
                int byteStart = System.Text.Encoding.UTF8.GetByteCount(input.Text.AsSpan(0, start));
                list.Add(new TeiToken(e.Ids[t], input.Text[start..end], false, byteStart, byteStart + System.Text.Encoding.UTF8.GetByteCount(input.Text.AsSpan(start, end - start))));
            }
            return list.ToArray();
        })).ConfigureAwait(false);
        await Write(ctx, tokens).ConfigureAwait(false);
    }

    /// <summary>POST /decode: the text of each id sequence through the model's tokenizer (its tokenizer.json decoder), a
    /// list even for one sequence as TEI answers. An id outside the vocabulary is a 422 naming it: HF's decode would
    /// silently drop it, and a shorter text hides the client's bug (or a request sent to the wrong model).</summary>
    public async Task Decode(HttpContext ctx)
    {
        var r = await api.ParseBodyAsync(ctx, body => TeiRequests.ParseDecode(body, state.Options)).ConfigureAwait(false);
        var entry = Find(r.Model);
        var texts = await WithModelAsync(ctx, entry, model =>
        {
            long start = Stopwatch.GetTimestamp();
            var result = new string[r.Ids.Length];
            for (int i = 0; i < result.Length; i++)
            {
                try { result[i] = model.Tokenizer.Decode(r.Ids[i], r.SkipSpecialTokens); }
                catch (InputException e)
                {
                    throw new ApiException(422, "invalid_request_error", (r.Ids.Length > 1 ? $"ids[{i}]: " : "") + e.Message + $" of model '{entry.Name}'") { TeiType = "Validation" };
                }
            }
            state.Metrics.Tokenization.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            return result;
        }).ConfigureAwait(false);
        await Write(ctx, texts).ConfigureAwait(false);
    }

    /// <summary>GET /info[?model=NAME]: TEI's model and router description (loads the model).</summary>
    public async Task Info(HttpContext ctx)
    {
        var entry = Find(ctx.Request.Query["model"].FirstOrDefault());
        var o = state.Options;
        var info = await WithModelAsync(ctx, entry, model =>
        {
            TeiModelType type;
            if (model.HasClassifier)
            {
                var id2label = new Dictionary<string, string>();
                var label2id = new Dictionary<string, int>();
                var names = LabelNames(model);
                for (int i = 0; i < names.Length; i++)
                {
                    id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = names[i];
                    label2id[names[i]] = i;
                }
                var classifier = new TeiClassifierModel(id2label, label2id);
                type = model.NumLabels == 1 ? new TeiModelType(null, null, classifier) : new TeiModelType(null, classifier, null);
            }
            else
            {
                var pooling = o.LoadOptions.Pooling ?? model.SentenceTransformers?.Pooling ?? PoolingMode.Mean;
                type = new TeiModelType(new TeiEmbeddingModel(pooling.ToString().ToLowerInvariant()), null, null);
            }
            return new TeiInfo(entry.Name, o.LoadOptions.Int8 ? "int8" : "float32", type, o.MaxQueue, model.MaxLength, o.MaxBatch * model.MaxLength,
                o.MaxBatch, o.MaxInputs, false, 1, typeof(TeiEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0",
                state.Models.Keys.ToArray());
        }).ConfigureAwait(false);
        await Write(ctx, info).ConfigureAwait(false);
    }

    /// <summary>Embeddings of the request's inputs (with its prompt_name, else the model's default prompt), full size as the library makes them.</summary>
    private async Task<float[][]> EmbedAsync(HttpContext ctx, TeiRequest r)
    {
        var entry = Find(r.Model);
        string prefix;
        using (var cts = api.Deadline(ctx))
            prefix = await entry.PromptPrefixAsync(r.PromptName, null, cts.Token).ConfigureAwait(false);
        var inputs = prefix.Length == 0 ? r.Inputs : Array.ConvertAll(r.Inputs, t => new TextInput(prefix + t.Text));
        await CheckAsync(ctx, entry, inputs, r.Truncate, _ => 0).ConfigureAwait(false);
        var results = await api.InferAsync(ctx, entry, TaskKind.Embed, inputs).ConfigureAwait(false);
        return Array.ConvertAll(results, x => x.Embedding!);
    }

    /// <summary>Runs <paramref name="check"/> on the model, then refuses (422) any input longer than the model takes unless
    /// the request allows truncation. The tokenization time goes to /metrics.</summary>
    private Task<T> CheckAsync<T>(HttpContext ctx, ModelEntry entry, TextInput[] inputs, bool truncate, Func<TransformerModel, T> check) =>
        WithModelAsync(ctx, entry, model =>
        {
            var result = check(model);
            if (truncate) return result;
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < inputs.Length; i++)
            {
                int n = Encode(model, inputs[i], null).Length;
                if (n > model.MaxLength)
                    throw new ApiException(422, "invalid_request_error",
                        $"input {i} has {n} tokens but model '{entry.Name}' takes at most {model.MaxLength}; send \"truncate\": true to cut it") { TeiType = "Validation" };
            }
            state.Metrics.Tokenization.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            return result;
        });

    private static Tokenization.Encoding Encode(TransformerModel model, TextInput input, int? maxLength)
    {
        try { return model.Tokenizer.Encode(input.Text, input.TextPair, maxLength); }
        catch (NativeTransformerException e) { throw new ApiException(422, "tokenizer_error", e.Message) { TeiType = "Tokenizer" }; }
    }

    private async Task<T> WithModelAsync<T>(HttpContext ctx, ModelEntry entry, Func<TransformerModel, T> use)
    {
        using var cts = api.Deadline(ctx);
        using var lease = await entry.AcquireAsync(cts.Token).ConfigureAwait(false);
        return use(lease.Model);
    }

    /// <summary>The named model, or the first --model when the request names none.</summary>
    private ModelEntry Find(string? name) => state.Find(name ?? state.Options.Models.Keys.First());

    /// <summary>TEI answers 424 when the model cannot do what the route asks.</summary>
    private static ApiException NotSupported(string message) => new(424, "model_not_supported", message) { TeiType = "Backend" };

    private static void CheckDimensions(int dimensions, int size)
    {
        if (dimensions > size)
            throw new ApiException(422, "invalid_request_error", $"'dimensions' is {dimensions} but the model makes embeddings of {size} dimensions") { TeiType = "Validation" };
    }

    /// <summary>id2label names by id ("LABEL_i" where config.json names none), as the library's results name them.</summary>
    private static string[] LabelNames(TransformerModel model)
    {
        var names = new string[model.NumLabels];
        for (int i = 0; i < names.Length; i++) names[i] = model.Config.Id2Label.TryGetValue(i, out var n) ? n : $"LABEL_{i}";
        return names;
    }

    private static Task Write<T>(HttpContext ctx, T value) => Endpoints.WriteAsync(ctx, 200, value, TeiJsonContext.Info<T>());
}
