using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>Every file in tests/fixtures/hostile must be refused with its exact <see cref="SafetensorsError"/>,
/// a message naming the file, and no crash, hang or large allocation (<see cref="Bounded"/>).</summary>
public sealed class HostileFixtureTests
{
    private static string FixturePath(string relative) => TestPaths.Fixtures(["hostile", .. relative.Split('/')]);

    public static TheoryData<string, SafetensorsError> Cases()
    {
        var data = new TheoryData<string, SafetensorsError>();
        foreach (var (path, _, error) in HostileFixtures.All) data.Add(path, error);
        return data;
    }

    [Fact]
    public void CommittedFixturesMatchTheGenerator()
    {
        bool regenerate = Environment.GetEnvironmentVariable("NT_REGENERATE_HOSTILE") == "1";
        foreach (var (relative, bytes, _) in HostileFixtures.All)
        {
            string path = FixturePath(relative);
            if (regenerate)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, bytes);
            }
            Assert.True(File.Exists(path), $"missing fixture {path}; regenerate with NT_REGENERATE_HOSTILE=1");
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(path)), $"fixture {path} differs from HostileFixtures");
            Assert.True(bytes.Length <= 4096, $"fixture {relative} should stay tiny");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void HostileInputIsRefusedWithTheExactError(string relative, SafetensorsError expected)
    {
        string path = FixturePath(relative);
        bool isIndex = relative.EndsWith("/model.safetensors.index.json", StringComparison.Ordinal);

        var e = Assert.IsType<SafetensorsException>(Bounded.Run(() =>
        {
            using var source = isIndex ? Checkpoint.Open(Path.GetDirectoryName(path)!) : SafetensorsFile.Open(path);
        }, relative));

        Assert.Equal(expected, e.Error);
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
        Assert.Contains(Path.GetFullPath(path), e.Message);
    }

    [Fact]
    public void EveryRequiredHostileCaseIsCovered()
    {
        var names = HostileFixtures.All.Select(f => f.Path).ToHashSet();
        string[] required =
        [
            "truncated.safetensors", "header_length_past_eof.safetensors", "header_length_absurd.safetensors",
            "header_not_utf8.safetensors", "header_not_json.safetensors", "header_not_object.safetensors",
            "header_nested_too_deep.safetensors", "unknown_dtype.safetensors", "negative_shape.safetensors",
            "overflowing_shape.safetensors", "offsets_out_of_bounds.safetensors", "offsets_overlapping.safetensors",
            "offsets_gapped.safetensors", "shape_byte_mismatch.safetensors", "duplicate_tensor.safetensors",
            "metadata_non_string.safetensors", "index_traversal_dotdot/model.safetensors.index.json",
            "index_absolute_path/model.safetensors.index.json", "index_missing_shard/model.safetensors.index.json",
        ];
        foreach (var r in required) Assert.Contains(r, names);
    }

    [Fact]
    public void TensorNameIsReportedWhenKnown()
    {
        var e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(FixturePath("shape_byte_mismatch.safetensors")));
        Assert.Equal("t", e.TensorName);
        Assert.Contains("tensor 't'", e.Message);
    }
}
