namespace NativeTransformer.WeightsTools.Sweep;

/// <summary>
/// One compression transform of the sweep pipeline. Steps run in list order. A step either rewrites the folder
/// (<see cref="AtLoad"/> returns false: <see cref="Write"/> runs, and its output is cached per <see cref="Key"/>) or
/// acts at load time through <see cref="LoadOptions"/> (no file written during a sweep). Every step can also
/// <see cref="Write"/> its effect as a folder, which is how autocompress materializes its choice.
/// </summary>
public interface ISweepStep
{
    string Name { get; }

    /// <summary>True when <paramref name="p"/> leaves the model unchanged by this step.</summary>
    bool IsIdentity(SweepPoint p);

    /// <summary>True when sweeps apply the step at load (<see cref="Configure"/>) instead of writing a folder.</summary>
    bool AtLoad { get; }

    /// <summary>The settings of <paramref name="p"/> this step depends on, for caching written folders.</summary>
    string Key(SweepPoint p);

    /// <summary>Load options for <paramref name="p"/> (load-time steps; others return <paramref name="options"/>).</summary>
    LoadOptions Configure(LoadOptions options, SweepPoint p);

    /// <summary>Writes <paramref name="outDir"/> (new or empty) = <paramref name="inDir"/> transformed for <paramref name="p"/>.</summary>
    void Write(string inDir, string outDir, SweepPoint p);
}
