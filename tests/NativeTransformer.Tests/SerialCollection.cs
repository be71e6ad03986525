namespace NativeTransformer.Tests;

/// <summary>
/// Tests that measure process-wide quantities (allocated bytes, RSS) run alone: xunit runs other test
/// classes in parallel, and their allocations would be counted too.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (process-wide measurements)";
}
