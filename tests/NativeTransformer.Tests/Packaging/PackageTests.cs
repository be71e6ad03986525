using System.Globalization;
using System.IO.Compression;
using NativeTransformer.Tests.Cli;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Packaging;

/// <summary>
/// The NuGet packages as a user gets them (issue 15): a fresh console app restores NativeTransformer from a local feed,
/// runs (JIT, then Native AOT) and embeds a sentence exactly as the library does in-process; the ntr package has the
/// .NET tool layout. The AOT publish is skipped with NT_AOT_SMOKE=0, like the other AOT tests.
/// </summary>
public sealed class PackageTests(PackageFeedFixture feed, ITestOutputHelper output) : IClassFixture<PackageFeedFixture>
{
    private const string Sentence = "A package restored from a local feed embeds this sentence.";
    // A small model with its weights in ../shared (all-MiniLM-L6-v2 there has no weights: the real one is fetched by
    // RealModelsFixture, minutes on a cold cache). Embed (mean pooling) works on any encoder; packaging is what is tested.
    private static readonly string ModelDir = TestPaths.Model("bert-mini-sst2");

    [Fact]
    public void LibraryPackageRestoresAndEmbedsInAFreshApp()
    {
        feed.AssertPacked();
        output.WriteLine($"packed in {feed.PackTime.TotalSeconds:F0} s; NativeTransformer {new FileInfo(feed.LibraryPackage).Length:N0} bytes");
        var r = PackageFeedFixture.Dotnet(feed.App, TimeSpan.FromMinutes(6), "run", "-c", "Release", "--", ModelDir, Sentence);
        AssertSameEmbedding(r, "dotnet run");
    }

    [AotFact]
    public void LibraryPackagePublishesAsNativeAotWithoutWarnings()
    {
        feed.AssertPacked();
        string outDir = Path.Combine(feed.Root, "aot");
        var publish = PackageFeedFixture.Dotnet(feed.App, TimeSpan.FromMinutes(10), "publish", "-c", "Release", "-r", "linux-x64",
            "-p:PublishAot=true", "-o", outDir);
        Assert.True(publish.ExitCode == 0, $"dotnet publish -p:PublishAot=true failed (exit {publish.ExitCode}):\n{publish.Stdout}\n{publish.Stderr}");
        // IsAotCompatible/IsTrimmable promise a consumer no trim (IL2xxx) or AOT (IL3xxx) warning from the library.
        Assert.DoesNotMatch(@"warning IL[23]\d{3}", publish.Stdout + publish.Stderr);
        var r = AotProcess.Run(Path.Combine(outDir, "sample"), [ModelDir, Sentence], "", null, TimeSpan.FromMinutes(2), feed.App);
        AssertSameEmbedding(r, "the Native AOT sample");
    }

    [Fact]
    public void ToolPackageHasTheDotnetToolLayout()
    {
        feed.AssertPacked();
        output.WriteLine($"ntr {new FileInfo(feed.ToolPackage).Length:N0} bytes");
        using var zip = ZipFile.OpenRead(feed.ToolPackage);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("tools/net10.0/any/ntr.dll", entries);
        Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", entries);
        // The library and the server ship inside the tool (a tool package has no package dependencies).
        Assert.Contains("tools/net10.0/any/NativeTransformer.dll", entries);
        Assert.Contains("tools/net10.0/any/NativeTransformer.Serving.dll", entries);
        using var settings = new StreamReader(zip.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
        string xml = settings.ReadToEnd();
        Assert.Contains("Name=\"ntr\"", xml);
        Assert.Contains("EntryPoint=\"ntr.dll\"", xml);
        Assert.Contains("LICENSE", entries);
        Assert.Contains("PACKAGE.md", entries);
    }

    private void AssertSameEmbedding(SmokeOutput r, string what)
    {
        Assert.True(r.ExitCode == 0, $"{what} failed (exit {r.ExitCode}):\n{r.Stdout}\n{r.Stderr}");
        float[] printed = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        using var model = TransformerModel.Load(ModelDir);
        float[] expected = model.Embed(new[] { Sentence })[0];
        Assert.Equal(expected.Length, printed.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - printed[i]) <= 1e-5f, $"{what}: element {i} is {printed[i]}, in-process {expected[i]}");
    }
}
