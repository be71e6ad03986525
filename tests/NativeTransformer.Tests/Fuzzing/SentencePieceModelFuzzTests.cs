using NativeTransformer.Tests.Weights;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// Fuzzes the sentencepiece .model reader and the tokenizer built from it: a small valid model (and, spliced in, the
/// first 4 KB of a real one) mutated byte-wise, loaded through <see cref="TokenizerLoader.FromDirectory"/> as a T5-style
/// folder. Only <see cref="NativeTransformerException"/> may escape; a tokenizer that loads must give ids inside its
/// vocabulary and offsets inside the text.
/// </summary>
public sealed class SentencePieceModelFuzzTests(ITestOutputHelper output)
{
    private sealed record Input(byte[] Model, string Text);

    [Fact]
    public void FuzzSentencePieceModelFiles()
    {
        byte[] seed = HostileSentencePieceFixtures.Model(normalizerSpec: [0x18, 0x01, 0x20, 0x01]);
        byte[] real = File.ReadAllBytes(Path.Combine(TestPaths.Model("t5-encoder-mini-sst2"), "spiece.model"))[..4096];
        var bytes = new ByteMutator(["\u2581", "<unk>", "</s>", "a", "b"], [real]);
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer_config.json"), "{\"tokenizer_class\":\"T5Tokenizer\",\"pad_token\":\"<pad>\"}");
        int loaded = 0;
        var result = FuzzRunner.Run("sentencepiece-model", FuzzBudget.For(ciInputs: 300, ciSeed: 4242),
            r => new Input(bytes.Mutate(seed, r), UnicodeFuzz.RandomText(r, 60)),
            input =>
            {
                File.WriteAllBytes(dir.File("spiece.model"), input.Model);
                var tok = TokenizerLoader.FromDirectory(dir.Path);
                loaded++;
                var e = tok.Encode(input.Text, "ab b");
                foreach (int id in e.Ids) Assert.InRange(id, 0, tok.VocabSize - 1);
                foreach (var (s, end) in e.Offsets) Assert.True(s >= 0 && s <= end && end <= Math.Max(input.Text.Length, 4));
            },
            input => input.Model, ".model", output);
        Assert.InRange(loaded, 1, result.Inputs - 1);
    }
}
