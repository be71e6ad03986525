using System.Globalization;

namespace NativeTransformer.Training;

/// <summary>What one objective term reads and compares.</summary>
public enum ObjectiveTermKind
{
    /// <summary><c>ce</c>: cross-entropy of the classifier logits against the labels.</summary>
    CrossEntropy,
    /// <summary><c>kl</c> (alias <c>kd</c>): KLDivLoss(batchmean)(log_softmax(s/T), softmax(t/T))·T² against the teacher's logits.</summary>
    Distillation,
    /// <summary><c>hidden-mse</c>: MSE over real tokens between student hidden_states[i] (projected when the widths differ) and teacher hidden_states[map(i)], averaged over the mapped pairs.</summary>
    HiddenMse,
    /// <summary><c>embedding-mse</c>: MSE between mean-pooled, L2-normalised last hidden states (sentence embeddings).</summary>
    EmbeddingMse,
    /// <summary><c>embedding-cosine</c>: mean over the batch of 1 − cos(student sentence embedding, teacher's).</summary>
    EmbeddingCosine,
}

/// <summary>One weighted term; <see cref="LayerMap"/> (student hidden state, teacher hidden state) only for hidden-mse,
/// null = the default uniform map.</summary>
public sealed record ObjectiveTerm(ObjectiveTermKind Kind, double Weight, IReadOnlyList<(int Student, int Teacher)>? LayerMap = null)
{
    public string Name => Kind switch
    {
        ObjectiveTermKind.CrossEntropy => "ce",
        ObjectiveTermKind.Distillation => "kl",
        ObjectiveTermKind.HiddenMse => "hidden-mse",
        ObjectiveTermKind.EmbeddingMse => "embedding-mse",
        _ => "embedding-cosine",
    };

    public override string ToString()
    {
        string w = Weight == 1 ? "" : Weight.ToString("R", CultureInfo.InvariantCulture) + "*";
        string map = LayerMap is null ? "" : "(" + string.Join(",", LayerMap.Select(p => $"{p.Student}:{p.Teacher}")) + ")";
        return w + Name + map;
    }
}

/// <summary>
/// A training objective: a weighted sum Σ wᵢ·termᵢ evaluated in one student forward and one backward
/// (<see cref="GradientComputation.Compute(BertTrainingModel, TrainingBatch, TrainingObjective, BertTrainingModel?, ParameterSet, int, DropoutOptions?)"/>).
/// Text form (<see cref="Parse"/>): comma-separated terms, each <c>[WEIGHT*]NAME[(S:T,S:T,…)]</c>, e.g. <c>ce</c>,
/// <c>0.5*kl,0.5*ce</c>, <c>kl,hidden-mse(0:0,1:2,2:4)</c>, <c>embedding-cosine</c>. Names: ce, kl (kd), hidden-mse,
/// embedding-mse, embedding-cosine; weights are positive decimals (default 1); the hidden-mse map pairs student hidden state S
/// (0 = embedding output, i = layer i) with teacher hidden state T; without one it maps 0:0 and i:i·Lt/Ls (rounded).
/// </summary>
public sealed class TrainingObjective
{
    /// <summary>The names of the learned hidden-state projection (student width → teacher width), a training-only parameter:
    /// trained with the student, never part of the student's checkpoint.</summary>
    public const string ProjectionWeight = "distill.hidden_projection.weight", ProjectionBias = "distill.hidden_projection.bias";

    public IReadOnlyList<ObjectiveTerm> Terms { get; }
    /// <summary>The distillation temperature T (kl only).</summary>
    public double Temperature { get; }

    public TrainingObjective(IReadOnlyList<ObjectiveTerm> terms, double temperature = 2.0)
    {
        if (terms.Count == 0) throw new InputException("the training objective has no terms");
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new InputException($"the temperature must be a positive number, got {temperature}");
        foreach (var group in terms.GroupBy(t => t.Kind))
            if (group.Count() > 1) throw new InputException($"the training objective names '{group.First().Name}' twice; give it one weight");
        foreach (var t in terms)
            if (!(t.Weight > 0) || double.IsInfinity(t.Weight)) throw new InputException($"the weight of '{t.Name}' must be a positive number, got {t.Weight}");
        Terms = terms; Temperature = temperature;
    }

    public static TrainingObjective Single(ObjectiveTermKind kind, double temperature = 2.0) => new([new ObjectiveTerm(kind, 1)], temperature);

    public bool NeedsTeacher => Terms.Any(t => t.Kind != ObjectiveTermKind.CrossEntropy);
    public bool NeedsLabels => Terms.Any(t => t.Kind == ObjectiveTermKind.CrossEntropy);
    public bool ReadsLogits => Terms.Any(t => t.Kind is ObjectiveTermKind.CrossEntropy or ObjectiveTermKind.Distillation);

    public override string ToString() => string.Join(",", Terms);
    public string Name => ToString();

    /// <summary>The hidden projection of the one-call form (<see cref="Compute"/>): created by <see cref="Check"/> from its seed; empty when no hidden-mse term crosses widths. The loop updates it with its own optimizer
    /// from <see cref="ParameterGradients"/> and saves it apart from the student (<see cref="ParameterSet.Save"/>).</summary>
    public ParameterSet Parameters { get; private set; } = new();
    /// <summary>The gradients of <see cref="Parameters"/> from the last <see cref="Compute"/>.</summary>
    public ParameterSet ParameterGradients { get; private set; } = new();

    /// <summary>
    /// Refuses, before any step, a student / teacher pair this objective cannot train (typed errors naming the mismatch),
    /// and creates <see cref="Parameters"/> (the projection initialised from <paramref name="projectionSeed"/>).
    /// </summary>
    public void Check(BertTrainingModel student, BertTrainingModel? teacher, int projectionSeed = 0)
    {
        if (ReadsLogits && !student.HasClassifier) throw new InputException($"--loss {Name}: the student has no sequence-classification head");
        if (NeedsTeacher)
        {
            if (teacher is null) throw new InputException($"--loss {Name} needs a teacher");
            if (teacher.Config.VocabSize != student.Config.VocabSize)
                throw new InputException($"the teacher's vocabulary ({teacher.Config.VocabSize} ids) differs from the student's ({student.Config.VocabSize}); they must share a tokenizer");
            foreach (var term in Terms)
            {
                if (term.Kind == ObjectiveTermKind.Distillation && (!teacher.HasClassifier || teacher.Labels != student.Labels))
                    throw new InputException($"kl needs a teacher classifier with the student's {student.Labels} labels (teacher: {(teacher.HasClassifier ? teacher.Labels + " labels" : "no classifier")})");
                if (term.Kind is ObjectiveTermKind.EmbeddingMse or ObjectiveTermKind.EmbeddingCosine && teacher.Config.HiddenSize != student.Config.HiddenSize)
                    throw new InputException($"{term.Name} needs equal widths: teacher {teacher.Config.HiddenSize}, student {student.Config.HiddenSize}");
                if (term.Kind == ObjectiveTermKind.HiddenMse) LayerMapFor(term, student, teacher);
            }
        }
        Parameters = CreateParameters(student, teacher, projectionSeed);
        ParameterGradients = Parameters.ZerosLike();
    }

    /// <summary>
    /// The one-call form for a training loop: the loss of <paramref name="batch"/>, the student's gradients added into
    /// <paramref name="grads"/> (a zeroed <see cref="ParameterSet.ZerosLike"/> of the student's parameters) and the projection's
    /// left in <see cref="ParameterGradients"/>. <see cref="Check"/> must have run. Same as
    /// <see cref="GradientComputation.Compute(BertTrainingModel, TrainingBatch, TrainingObjective, BertTrainingModel?, ParameterSet, int, DropoutOptions?)"/>.
    /// </summary>
    public double Compute(BertTrainingModel student, BertTrainingModel? teacher, TrainingBatch batch, ParameterSet grads, int threads, DropoutOptions? dropout = null)
    {
        var r = GradientComputation.Compute(student, batch, this, teacher, Parameters, threads, dropout);
        foreach (var g in r.Gradients.All)
        {
            var target = grads[g.Name].Values;
            for (int i = 0; i < target.Length; i++) target[i] += g.Values[i];
        }
        ParameterGradients = r.ObjectiveGradients;
        return r.Loss;
    }

    /// <summary>Parses the text form (see the class summary); a malformed term fails naming it.</summary>
    public static TrainingObjective Parse(string text, double temperature = 2.0)
    {
        var terms = new List<ObjectiveTerm>();
        foreach (var raw in SplitTopLevel(text))
        {
            string term = raw.Trim();
            if (term.Length == 0) throw new InputException($"objective '{text}': an empty term (two commas in a row, or a trailing comma)");
            double weight = 1;
            int star = term.IndexOf('*');
            if (star >= 0)
            {
                string w = term[..star].Trim();
                if (!double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out weight))
                    throw new InputException($"objective term '{term}': the weight '{w}' is not a number");
                term = term[(star + 1)..].Trim();
            }
            List<(int, int)>? map = null;
            int open = term.IndexOf('(');
            if (open >= 0)
            {
                if (!term.EndsWith(')')) throw new InputException($"objective term '{raw.Trim()}': the layer map must end with ')'");
                map = ParseMap(term[(open + 1)..^1], raw.Trim());
                term = term[..open].Trim();
            }
            var kind = term switch
            {
                "ce" => ObjectiveTermKind.CrossEntropy,
                "kl" or "kd" => ObjectiveTermKind.Distillation,
                "hidden-mse" => ObjectiveTermKind.HiddenMse,
                "embedding-mse" => ObjectiveTermKind.EmbeddingMse,
                "embedding-cosine" => ObjectiveTermKind.EmbeddingCosine,
                _ => throw new InputException($"objective term '{raw.Trim()}': unknown loss '{term}' (ce, kl, hidden-mse, embedding-mse, embedding-cosine)"),
            };
            if (map is not null && kind != ObjectiveTermKind.HiddenMse)
                throw new InputException($"objective term '{raw.Trim()}': only hidden-mse takes a layer map");
            terms.Add(new ObjectiveTerm(kind, weight, map));
        }
        return new TrainingObjective(terms, temperature);
    }

    private static List<(int, int)> ParseMap(string body, string term)
    {
        var map = new List<(int, int)>();
        foreach (var pair in body.Split([',', ';'], StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split(':', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int s)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int t))
                throw new InputException($"objective term '{term}': layer pair '{pair}' is not STUDENT:TEACHER (non-negative integers)");
            map.Add((s, t));
        }
        return map;
    }

    /// <summary>Splits on commas outside parentheses.</summary>
    private static IEnumerable<string> SplitTopLevel(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0) { yield return text[start..i]; start = i + 1; }
            if (depth < 0) throw new InputException($"objective '{text}': unbalanced parentheses");
        }
        if (depth != 0) throw new InputException($"objective '{text}': unbalanced parentheses");
        yield return text[start..];
    }

    /// <summary>The (student, teacher) hidden-state pairs of <paramref name="term"/>, checked against both models' depths.</summary>
    public static IReadOnlyList<(int Student, int Teacher)> LayerMapFor(ObjectiveTerm term, BertTrainingModel student, BertTrainingModel teacher)
    {
        int ls = student.Config.NumLayers, lt = teacher.Config.NumLayers;
        var map = term.LayerMap ?? Enumerable.Range(0, ls + 1).Select(i => (i, (int)Math.Round((double)i * lt / ls, MidpointRounding.AwayFromZero))).ToList();
        if (map.Count == 0) throw new InputException("hidden-mse: the layer map is empty");
        foreach (var (s, t) in map)
            if (s > ls || t > lt)
                throw new InputException($"hidden-mse: layer pair {s}:{t} is out of range (student hidden states 0..{ls}, teacher 0..{lt})");
        return map;
    }

    /// <summary>
    /// The objective's own trainable parameters for this student/teacher pair: the hidden-state projection
    /// (<see cref="ProjectionWeight"/> [teacher width, student width] and <see cref="ProjectionBias"/>) when a hidden-mse term
    /// compares different widths, initialised as torch.nn.Linear (uniform ±1/√fan_in) from <paramref name="seed"/>; empty otherwise.
    /// </summary>
    public ParameterSet CreateParameters(BertTrainingModel student, BertTrainingModel? teacher, int seed)
    {
        var set = new ParameterSet();
        if (teacher is null || !Terms.Any(t => t.Kind == ObjectiveTermKind.HiddenMse)) return set;
        int ds = student.Config.HiddenSize, dt = teacher.Config.HiddenSize;
        if (ds == dt) return set;
        var rng = new Random(seed);
        double bound = 1 / Math.Sqrt(ds);
        float Draw() => (float)((rng.NextDouble() * 2 - 1) * bound);
        set.Add(new Parameter(ProjectionWeight, [dt, ds], Enumerable.Range(0, dt * ds).Select(_ => Draw()).ToArray()));
        set.Add(new Parameter(ProjectionBias, [dt], Enumerable.Range(0, dt).Select(_ => Draw()).ToArray()));
        return set;
    }
}
