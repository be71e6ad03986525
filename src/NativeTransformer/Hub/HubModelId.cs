using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace NativeTransformer.Hub;

/// <summary>A hub model reference <c>owner/name</c> with an optional <c>@revision</c> (branch, tag or commit).</summary>
public sealed partial record HubModelId(string RepoId, string Revision)
{
    public const string DefaultRevision = "main";

    // The hub's own name rules: letters, digits, '-', '_', '.'; no leading '.' or '-' and no "--" or ".." inside.
    [GeneratedRegex(@"^(?<repo>[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95})(@(?<rev>[A-Za-z0-9_.\-/]{1,200}))?$")]
    private static partial Regex Pattern();

    /// <summary>True when <paramref name="value"/> looks like <c>owner/name[@revision]</c>.</summary>
    public static bool TryParse(string value, [NotNullWhen(true)] out HubModelId? id)
    {
        id = null;
        var m = Pattern().Match(value);
        if (!m.Success) return false;
        string repo = m.Groups["repo"].Value;
        if (repo.Contains("--") || repo.Contains("..") || repo.EndsWith('.') || repo.Contains("./") || repo.Contains("-/")) return false;
        string rev = m.Groups["rev"].Success ? m.Groups["rev"].Value : DefaultRevision;
        if (rev.Contains("..") || rev.StartsWith('/') || rev.EndsWith('/')) return false;
        id = new HubModelId(repo, rev);
        return true;
    }

    /// <summary>True when the revision is a full 40-hex commit id (then no refs/ lookup is needed).</summary>
    public bool RevisionIsCommit => IsCommitHash(Revision);

    internal static bool IsCommitHash(string s) => s.Length == 40 && s.All(char.IsAsciiHexDigitLower);

    public override string ToString() => Revision == DefaultRevision ? RepoId : $"{RepoId}@{Revision}";
}
