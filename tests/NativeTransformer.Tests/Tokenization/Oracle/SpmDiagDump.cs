using System.Text;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization.Oracle;

public sealed class SpmDiagDump
{
    [SkippableTheory]
    [InlineData("xlmr-mini-sst2")]
    [InlineData("albert-spm-mini-sst2")]
    [InlineData("t5-encoder-mini-sst2")]
    public void Dump(string folder)
    {
        Skip.If(Environment.GetEnvironmentVariable("NT_SPM_DIAG") != "1");
        var (ours, theirs, _) = TokenizerOracleTests.Load(folder);
        using var __ = theirs;
        var inputs = OracleCorpora.RandomUnicode(50_000, 20240611);
        var sb = new StringBuilder();
        var seen = new HashSet<string>();
        int diff = 0;
        bool Differs(string s) => !OracleComparison.HasLoneSurrogate(s) && !ours.EncodeIdsNoSpecial(s).AsSpan().SequenceEqual(theirs.EncodeNoSpecial(s));
        foreach (var s in inputs)
        {
            if (!Differs(s)) continue;
            diff++;
            // Minimize: remove code points one by one while the difference persists.
            var cps = s.EnumerateRunes().Select(r => r.ToString()).ToList();
            bool changed = true;
            while (changed)
            {
                changed = false;
                for (int i = 0; i < cps.Count; i++)
                {
                    var t = cps.ToList(); t.RemoveAt(i);
                    if (t.Count > 0 && Differs(string.Concat(t))) { cps = t; changed = true; i--; }
                }
            }
            string m = string.Concat(cps);
            if (!seen.Add(m)) continue;
            var o = ours.EncodeIdsNoSpecial(m); var h = theirs.EncodeNoSpecial(m);
            sb.AppendLine($"{OracleComparison.Escape(m)}\tours {string.Join(' ', o.Select(ours.IdToToken))} [{string.Join(' ', o)}]\ttheirs {string.Join(' ', h.Select(i => ours.IdToToken(i)))} [{string.Join(' ', h)}]");
        }
        File.WriteAllText($"/tmp/spm2-{folder}.txt", $"{diff} differing\n" + sb);
    }
}
