namespace NativeTransformer;

/// <summary>
/// How token predictions become entities, as Hugging Face's token-classification pipeline <c>aggregation_strategy</c>:
/// <see cref="None"/> one result per token; <see cref="Simple"/> adjacent tokens merged by B-/I- tags; <see cref="First"/>,
/// <see cref="Average"/>, <see cref="Max"/> first force one label per word (the first piece's, the label of the
/// averaged probabilities, the most confident piece's), then merge words like Simple.
/// </summary>
public enum EntityAggregation { None, Simple, First, Average, Max }

/// <summary>One entity (or, for <see cref="EntityAggregation.None"/>, one token).</summary>
/// <param name="Label">The entity type without its B-/I- prefix ("entity_group"), or the token's full label for None ("entity").</param>
/// <param name="Score">Softmax probability of the label: for a group the mean over its tokens (words).</param>
/// <param name="Word">The original text between <paramref name="Start"/> and <paramref name="End"/>.</param>
/// <param name="Start">Start offset in the original text (UTF-16 code units).</param>
/// <param name="End">End offset (exclusive).</param>
/// <param name="Index">The token position in the encoded input ([CLS] = 0) for None; null otherwise.</param>
public sealed record TaggedEntity(string Label, float Score, string Word, int Start, int End, int? Index = null);

/// <summary>The entities of one text; <see cref="Truncated"/> when the text had more tokens than the model's max length
/// (the tokens past it were not tagged).</summary>
public sealed record EntityTagging(string Text, TaggedEntity[] Entities, bool Truncated)
{
    /// <summary>Windows the text was tagged in (<see cref="OverflowMode.Window"/>; 1 when it fits).</summary>
    public int Windows { get; init; } = 1;
}

/// <summary>Aggregation names as Hugging Face spells them.</summary>
public static class EntityAggregations
{
    public static readonly string[] Names = ["none", "simple", "first", "average", "max"];

    public static string Name(this EntityAggregation a) => Names[(int)a];

    /// <summary>Parses none|simple|first|average|max; an unknown name is an <see cref="InputException"/> listing them.</summary>
    public static EntityAggregation Parse(string name)
    {
        int i = Array.IndexOf(Names, name);
        return i >= 0 ? (EntityAggregation)i
            : throw new InputException($"unknown aggregation strategy '{name}'; expected one of {string.Join(", ", Names)}");
    }
}
