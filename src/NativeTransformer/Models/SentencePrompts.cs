using System.Text.Json;

namespace NativeTransformer.Models;

/// <summary>
/// The prompts of <c>config_sentence_transformers.json</c>: <c>prompts</c> (name → text prepended to each input, e.g.
/// "query" → "Represent this sentence for searching relevant passages: ") and <c>default_prompt_name</c>, the one
/// applied when a call names none. An absent file means no prompts.
/// </summary>
public sealed class SentencePrompts
{
    public static readonly SentencePrompts None = new(new Dictionary<string, string>(StringComparer.Ordinal), null);

    /// <summary>Prompt name → prefix text, as the file lists them.</summary>
    public IReadOnlyDictionary<string, string> Prompts { get; }
    /// <summary>The prompt applied when a call names none, or null.</summary>
    public string? DefaultPromptName { get; }

    private SentencePrompts(IReadOnlyDictionary<string, string> prompts, string? defaultName) => (Prompts, DefaultPromptName) = (prompts, defaultName);

    public static SentencePrompts Load(string directory)
    {
        string path = Path.Combine(directory, "config_sentence_transformers.json");
        if (!File.Exists(path)) return None;
        using var doc = SentenceTransformersConfig.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ModelConfigException($"{path}: expected a JSON object");
        var prompts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("prompts", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind != JsonValueKind.Object) throw new ModelConfigException($"{path}: 'prompts' must be an object of name → prompt text");
            foreach (var item in p.EnumerateObject())
                prompts[item.Name] = item.Value.ValueKind == JsonValueKind.String ? item.Value.GetString()!
                    : throw new ModelConfigException($"{path}: 'prompts.{item.Name}' must be a string");
        }
        string? defaultName = null;
        if (root.TryGetProperty("default_prompt_name", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            defaultName = d.ValueKind == JsonValueKind.String ? d.GetString()! : throw new ModelConfigException($"{path}: 'default_prompt_name' must be a string or null");
            if (!prompts.ContainsKey(defaultName))
                throw new ModelConfigException($"{path}: default_prompt_name '{defaultName}' is not one of the prompts ({Names(prompts)})");
        }
        return new SentencePrompts(prompts, defaultName);
    }

    /// <summary>
    /// The prefix for a call: <paramref name="prompt"/> itself when given (an empty string means no prompt, even over a
    /// default), else the text of <paramref name="promptName"/>, else <paramref name="fallback"/>. Giving both, or a name
    /// the folder does not define, throws <see cref="InputException"/> (which lists the names).
    /// </summary>
    public string Resolve(string? promptName, string? prompt, string fallback)
    {
        if (promptName is not null && prompt is not null) throw new InputException("give a prompt name or a prompt text, not both");
        if (prompt is not null) return prompt;
        if (promptName is null) return fallback;
        return Prompts.TryGetValue(promptName, out var text) ? text
            : throw new InputException($"unknown prompt name '{promptName}'; this model's prompts: {Names(Prompts)}");
    }

    /// <summary>The prefix used when a call names no prompt: default_prompt_name's text, else none.</summary>
    public string Default => DefaultPromptName is { } n ? Prompts[n] : "";

    private static string Names(IReadOnlyDictionary<string, string> prompts) =>
        prompts.Count == 0 ? "none (no 'prompts' in config_sentence_transformers.json)" : string.Join(", ", prompts.Keys.Order(StringComparer.Ordinal));
}
