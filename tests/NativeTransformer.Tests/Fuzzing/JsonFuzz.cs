using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// Grammar-level JSON fuzzing: random JSON values built from a format's own key names and string values, and
/// structure-aware mutations of a valid document (replace / delete / add / retype one node) that keep the text
/// parseable so the input reaches the semantic checks behind the JSON parser.
/// </summary>
public sealed class JsonFuzz(IReadOnlyList<string> keys, IReadOnlyList<string> strings)
{
    /// <summary>A random JSON value as text; <paramref name="depth"/> bounds nesting.</summary>
    public string RandomValue(Random r, int depth = 3)
    {
        var sb = new StringBuilder();
        WriteValue(sb, r, depth);
        return sb.ToString();
    }

    private void WriteValue(StringBuilder sb, Random r, int depth)
    {
        switch (r.Next(depth > 0 ? 9 : 6))
        {
            case 0: sb.Append(r.Next(3) switch { 0 => "null", 1 => "true", _ => "false" }); break;
            case 1 or 2:
            {
                string number = ByteMutator.InterestingNumberTexts[r.Next(ByteMutator.InterestingNumberTexts.Length)];
                sb.Append(number is "NaN" or "Infinity" or "0x10" or "01" ? "7" : number); // keep the document valid JSON
                break;
            }
            case 3: sb.Append(r.Next(-4, 1000)); break;
            case 4: WriteString(sb, strings.Count > 0 && r.Next(3) != 0 ? strings[r.Next(strings.Count)] : UnicodeFuzz.RandomText(r, 12)); break;
            case 5: WriteString(sb, keys[r.Next(keys.Count)]); break;
            case 6 or 7:
            {
                sb.Append('{');
                int n = r.Next(5);
                for (int i = 0; i < n; i++)
                {
                    if (i > 0) sb.Append(',');
                    WriteString(sb, r.Next(4) == 0 ? r.Next(100).ToString() : keys[r.Next(keys.Count)]);
                    sb.Append(':');
                    WriteValue(sb, r, depth - 1);
                }
                sb.Append('}');
                break;
            }
            default:
            {
                sb.Append('[');
                int n = r.Next(6);
                for (int i = 0; i < n; i++) { if (i > 0) sb.Append(','); WriteValue(sb, r, depth - 1); }
                sb.Append(']');
                break;
            }
        }
    }

    /// <summary>JSON string literal; unpaired surrogates are written as \u escapes (JSON allows them, UTF-8 cannot hold them).</summary>
    public static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            if (c is '"' or '\\') sb.Append('\\').Append(c);
            else if (c < 0x20 || char.IsSurrogate(c)) sb.Append($"\\u{(int)c:x4}");
            else sb.Append(c);
        }
        sb.Append('"');
    }

    /// <summary>One to three structural mutations of <paramref name="json"/>; falls back to the text itself if it does not parse.</summary>
    public string Mutate(string json, Random r)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException) { return json; }
        if (root is null) return json;
        int count = 1 + r.Next(3);
        try
        {
            for (int m = 0; m < count; m++) root = MutateOnce(root, r);
            return root.ToJsonString();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException)
        {
            return json; // JsonNode refuses some documents (duplicate keys, lone surrogates) that raw parsers accept
        }
    }

    private JsonNode MutateOnce(JsonNode root, Random r)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var node = nodes[r.Next(nodes.Count)];
        var parent = node.Parent;
        JsonNode? replacement = JsonNode.Parse(RandomValue(r, 2));
        switch (r.Next(5))
        {
            case 0 when node is JsonObject o: o[keys[r.Next(keys.Count)]] = replacement; break;   // add or overwrite a known key
            case 1 when parent is JsonObject po: po.Remove(node.GetPropertyName()); break;         // delete a property
            case 2 when parent is JsonArray pa: pa.RemoveAt(node.GetElementIndex()); break;        // delete an element
            case 3 when node is JsonArray a: a.Add(replacement); break;                            // grow an array
            default:                                                                                // replace the node
                if (parent is JsonObject p) p[node.GetPropertyName()] = replacement;
                else if (parent is JsonArray arr) arr[node.GetElementIndex()] = replacement;
                else if (replacement is not null) return replacement;
                break;
        }
        return root;
    }

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        into.Add(node);
        if (node is JsonObject o) { foreach (var (_, v) in o) if (v is not null) Collect(v, into); }
        else if (node is JsonArray a) { foreach (var v in a) if (v is not null) Collect(v, into); }
    }
}
