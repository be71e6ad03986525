using System.Text;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>
/// The deterministic generator of tests/fixtures/hostile/. Every malformed file is described here together with the
/// exact error it must produce; <see cref="HostileFixtureTests"/> checks that the committed files equal these bytes.
/// Regenerate with <c>NT_REGENERATE_HOSTILE=1 dotnet test --filter HostileFixtureTests</c>.
/// </summary>
internal static class HostileFixtures
{
    /// <summary>Relative path under tests/fixtures/hostile, bytes, and the error opening it must raise.
    /// Paths ending in <c>/model.safetensors.index.json</c> are opened as checkpoint folders.</summary>
    public static IReadOnlyList<(string Path, byte[] Bytes, SafetensorsError Error)> All { get; } = Build();

    private const string F32x1 = "\"dtype\":\"F32\",\"shape\":[1]";

    private static List<(string, byte[], SafetensorsError)> Build()
    {
        var list = new List<(string, byte[], SafetensorsError)>();
        void File(string name, byte[] bytes, SafetensorsError error) => list.Add((name, bytes, error));
        void Json(string name, string header, int data, SafetensorsError error) => File(name, RawSafetensors.Build(header, data), error);
        void Index(string dir, string json) => list.Add((dir + "/model.safetensors.index.json", Encoding.UTF8.GetBytes(json), SafetensorsError.InvalidIndex));

        File("truncated.safetensors", [0x10, 0, 0, 0, 0], SafetensorsError.TooSmall);
        File("header_length_past_eof.safetensors", RawSafetensors.Concat(RawSafetensors.Prefix(1000), "{\"a\":1}"u8.ToArray()), SafetensorsError.HeaderOutOfBounds);
        File("header_length_absurd.safetensors", RawSafetensors.Concat(RawSafetensors.Prefix(1UL << 62), "{}"u8.ToArray()), SafetensorsError.HeaderTooLarge);
        File("header_length_max.safetensors", RawSafetensors.Concat(RawSafetensors.Prefix(ulong.MaxValue), "{}"u8.ToArray()), SafetensorsError.HeaderTooLarge);
        File("header_empty.safetensors", RawSafetensors.Prefix(0), SafetensorsError.HeaderNotJson);
        File("header_not_utf8.safetensors", RawSafetensors.Build(RawSafetensors.Concat("{\"t"u8.ToArray(), [0xFF], "\":{}}"u8.ToArray()), 0), SafetensorsError.HeaderNotUtf8);
        Json("header_not_json.safetensors", "{\"t\": nope}", 0, SafetensorsError.HeaderNotJson);
        Json("header_trailing_garbage.safetensors", "{}{}", 0, SafetensorsError.HeaderNotJson);
        Json("header_not_object.safetensors", "[1, 2, 3]", 0, SafetensorsError.InvalidHeader);
        Json("header_leading_space.safetensors", " {}", 0, SafetensorsError.InvalidHeader);
        Json("header_nested_too_deep.safetensors", "{\"t\":" + new string('[', 1000) + new string(']', 1000) + "}", 0, SafetensorsError.InvalidHeader);
        Json("header_lone_surrogate.safetensors", "{\"\\ud800\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, SafetensorsError.InvalidHeader);
        Json("entry_not_object.safetensors", "{\"t\":[1]}", 0, SafetensorsError.InvalidHeader);
        Json("entry_missing_offsets.safetensors", "{\"t\":{" + F32x1 + "}}", 4, SafetensorsError.InvalidHeader);
        Json("unknown_dtype.safetensors", "{\"t\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, SafetensorsError.UnknownDType);
        Json("unsupported_dtype_f8.safetensors", "{\"t\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, SafetensorsError.UnknownDType);
        Json("negative_shape.safetensors", "{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, SafetensorsError.InvalidShape);
        Json("fractional_shape.safetensors", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, SafetensorsError.InvalidShape);
        Json("overflowing_shape.safetensors", "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, SafetensorsError.InvalidShape);
        Json("overflowing_byte_count.safetensors", "{\"t\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", 8, SafetensorsError.InvalidShape);
        Json("dimension_beyond_int64.safetensors", "{\"t\":{\"dtype\":\"U8\",\"shape\":[18446744073709551616],\"data_offsets\":[0,1]}}", 1, SafetensorsError.InvalidShape);
        Json("shape_byte_mismatch.safetensors", "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, SafetensorsError.ShapeByteMismatch);
        Json("offsets_out_of_bounds.safetensors", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, SafetensorsError.OffsetsOutOfBounds);
        Json("offsets_beyond_int64.safetensors", "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[99999999999999999999,100000000000000000000]}}", 1, SafetensorsError.OffsetsOutOfBounds);
        Json("offsets_reversed.safetensors", "{\"t\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, SafetensorsError.InvalidHeader);
        Json("offsets_overlapping.safetensors", "{\"a\":{" + "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, SafetensorsError.OffsetsNotContiguous);
        Json("offsets_gapped.safetensors", "{\"a\":{" + F32x1 + ",\"data_offsets\":[0,4]},\"b\":{" + F32x1 + ",\"data_offsets\":[8,12]}}", 12, SafetensorsError.OffsetsNotContiguous);
        Json("offsets_not_from_zero.safetensors", "{\"a\":{" + F32x1 + ",\"data_offsets\":[4,8]}}", 8, SafetensorsError.OffsetsNotContiguous);
        Json("trailing_data.safetensors", "{\"a\":{" + F32x1 + ",\"data_offsets\":[0,4]}}", 8, SafetensorsError.OffsetsNotContiguous);
        Json("duplicate_tensor.safetensors", "{\"t\":{" + F32x1 + ",\"data_offsets\":[0,4]},\"t\":{" + F32x1 + ",\"data_offsets\":[4,8]}}", 8, SafetensorsError.DuplicateTensor);
        Json("duplicate_tensor_escaped.safetensors", "{\"t\":{" + F32x1 + ",\"data_offsets\":[0,4]},\"\\u0074\":{" + F32x1 + ",\"data_offsets\":[4,8]}}", 8, SafetensorsError.DuplicateTensor);
        Json("metadata_non_string.safetensors", "{\"__metadata__\":{\"format\":1}}", 0, SafetensorsError.InvalidMetadata);
        Json("metadata_not_object.safetensors", "{\"__metadata__\":[\"pt\"]}", 0, SafetensorsError.InvalidMetadata);
        Json("metadata_twice.safetensors", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, SafetensorsError.InvalidMetadata);

        Index("index_traversal_dotdot", "{\"metadata\":{},\"weight_map\":{\"w\":\"../x.safetensors\"}}");
        Index("index_absolute_path", "{\"metadata\":{},\"weight_map\":{\"w\":\"/etc/passwd\"}}");
        Index("index_subfolder", "{\"weight_map\":{\"w\":\"sub/model-00001-of-00002.safetensors\"}}");
        Index("index_backslash", "{\"weight_map\":{\"w\":\"..\\\\x.safetensors\"}}");
        Index("index_missing_shard", "{\"metadata\":{\"total_size\":4},\"weight_map\":{\"w\":\"model-00001-of-00001.safetensors\"}}");
        Index("index_not_json", "{\"weight_map\": {\"w\": }");
        Index("index_no_weight_map", "{\"metadata\":{}}");
        Index("index_non_string_shard", "{\"weight_map\":{\"w\":7}}");
        return list;
    }
}
