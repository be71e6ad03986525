namespace NativeTransformer.Training;

/// <summary>
/// Seeded inverted dropout (train mode): an element is zeroed with probability p and the rest scaled by 1/(1 − p), as
/// torch.nn.Dropout. The keep/drop decision is a pure function of (seed, step, site, element index) — a counter-based
/// hash, no generator state — so the mask never depends on how work is split over threads, the backward pass recomputes
/// it instead of storing it, and a run is reproducible bit for bit. <see cref="Hidden"/> applies after the embedding
/// LayerNorm, after each attention output dense, after each FFN output dense and before the classifier (HF BertModel's
/// hidden_dropout_prob positions); <see cref="Attention"/> to the attention probabilities (attention_probs_dropout_prob).
/// </summary>
public sealed record DropoutOptions(double Hidden, double Attention, ulong Seed, long Step = 0)
{
    /// <summary>The config's own probabilities (hidden_dropout_prob / attention_probs_dropout_prob, HF defaults 0.1).</summary>
    public static DropoutOptions Standard(ulong seed, long step = 0) => new(0.1, 0.1, seed, step);

    public bool IsActive => Hidden > 0 || Attention > 0;

    /// <summary>Site numbers: the embeddings, then per layer the attention probabilities, attention output and FFN output, then the head.</summary>
    internal static int EmbeddingSite => 0;
    internal static int AttentionProbsSite(int layer) => 1 + 3 * layer;
    internal static int AttentionOutputSite(int layer) => 2 + 3 * layer;
    internal static int FeedForwardSite(int layer) => 3 + 3 * layer;
    internal static int HeadSite(int layers) => 1 + 3 * layers;

    public void Validate()
    {
        if (!(Hidden >= 0 && Hidden < 1)) throw new InputException($"hidden dropout must be in [0, 1), got {Hidden}");
        if (!(Attention >= 0 && Attention < 1)) throw new InputException($"attention dropout must be in [0, 1), got {Attention}");
    }

    /// <summary>The multiplier of element <paramref name="index"/> at <paramref name="site"/>: 0 or 1/(1 − p); 1 when p = 0.</summary>
    public float Scale(int site, long index, double p)
    {
        if (p <= 0) return 1f;
        return Uniform(site, index) < p ? 0f : (float)(1 / (1 - p));
    }

    /// <summary>x ⊙ mask in place (also the backward: the same call on the gradient).</summary>
    public void Apply(Span<float> x, int site, double p, long firstIndex = 0)
    {
        if (p <= 0) return;
        float keep = (float)(1 / (1 - p));
        for (int i = 0; i < x.Length; i++) x[i] = Uniform(site, firstIndex + i) < p ? 0f : x[i] * keep;
    }

    /// <summary>A uniform double in [0, 1) from 53 bits of SplitMix64-finalised (seed, step, site, index).</summary>
    internal double Uniform(int site, long index)
    {
        ulong z = Mix(Seed ^ 0x9E3779B97F4A7C15UL);
        z = Mix(z ^ (ulong)Step);
        z = Mix(z ^ ((ulong)(uint)site << 40) ^ (ulong)index);
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
