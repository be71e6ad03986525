using System.Diagnostics;
using NativeTransformer.Tests.Cli;

namespace NativeTransformer.Tests.Packaging;

/// <summary>
/// Packs both packages (the library NativeTransformer and the .NET tool ntr) once per test run into a temp folder feed,
/// with a version no earlier run used (0.0.0-test.TICKS: the NuGet global packages folder can never serve a stale copy),
/// and writes a fresh console app that references the library from that feed. The build goes to a private artifacts
/// folder (--artifacts-path) so it never touches the bin/obj folders the test run itself or the AOT fixture build in.
/// Dispose removes the temp folder and the test version from the global packages folder.
/// </summary>
public sealed class PackageFeedFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("nt-packaging-").FullName;
    public string Version { get; } = "0.0.0-test." + DateTime.UtcNow.Ticks;
    public string Feed => Path.Combine(Root, "feed");
    public string App => Path.Combine(Root, "app");
    internal SmokeOutput Pack { get; }
    public TimeSpan PackTime { get; }

    public PackageFeedFixture()
    {
        var sw = Stopwatch.StartNew();
        // One build: packing the tool builds the library too (global properties flow to project references),
        // so the library pack after it is --no-build.
        Pack = Dotnet(TestPaths.RepoRoot, TimeSpan.FromMinutes(8), "pack", Path.Combine(TestPaths.RepoRoot, "src", "NativeTransformer.Cli"), "-c", "Release",
            "-o", Feed, "--artifacts-path", Path.Combine(Root, "artifacts"), "-p:Version=" + Version);
        if (Pack.ExitCode == 0)
            Pack = Dotnet(TestPaths.RepoRoot, TimeSpan.FromMinutes(4), "pack", Path.Combine(TestPaths.RepoRoot, "src", "NativeTransformer"), "-c", "Release", "--no-build",
                "-o", Feed, "--artifacts-path", Path.Combine(Root, "artifacts"), "-p:Version=" + Version);
        PackTime = sw.Elapsed;
        WriteSampleApp();
    }

    public string LibraryPackage => Path.Combine(Feed, $"NativeTransformer.{Version}.nupkg");
    public string ToolPackage => Path.Combine(Feed, $"ntr.{Version}.nupkg");

    public void AssertPacked() =>
        Assert.True(Pack.ExitCode == 0, $"dotnet pack failed (exit {Pack.ExitCode}):\n{Pack.Stdout}\n{Pack.Stderr}");

    /// <summary>A console app as a user writes it: PackageReference to NativeTransformer, a nuget.config that adds the
    /// local feed to the sources the machine already has (dependencies still come from NuGet). Prints the embedding of
    /// args[1] with model folder args[0], one float per line, round-trip formatted.</summary>
    private void WriteSampleApp()
    {
        Directory.CreateDirectory(App);
        File.WriteAllText(Path.Combine(App, "sample.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="NativeTransformer" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(App, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local-test-feed" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(App, "Program.cs"), """
            using System.Globalization;
            using NativeTransformer;

            using var model = TransformerModel.Load(args[0]);
            float[] vector = model.Embed(new[] { args[1] })[0];
            foreach (float x in vector) Console.WriteLine(x.ToString("R", CultureInfo.InvariantCulture));
            """);
    }

    /// <summary>Runs dotnet with telemetry and MSBuild node reuse off (no build nodes outlive the test).</summary>
    internal static SmokeOutput Dotnet(string workingDirectory, TimeSpan timeout, params string[] args) =>
        AotProcess.Run("dotnet", args, "", new Dictionary<string, string>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1", ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
        }, timeout, workingDirectory);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        // The restore of the sample app extracted the test version into the global packages folder: remove it.
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        try { Directory.Delete(Path.Combine(packages, "nativetransformer", Version), recursive: true); }
        catch (DirectoryNotFoundException) { } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
