namespace NativeTransformer.Tests.Tasks;

/// <summary>int8 / uint8 / binary / ubinary with sentence-transformers' quantize_embeddings semantics, on values worked out
/// by hand from its formulas (float32 arithmetic, numpy's truncating cast, packbits' most-significant-bit-first order).</summary>
public class EmbeddingQuantizationTests
{
    [Fact]
    public void Int8AndUint8UseTheCalibrationRangesAndTruncateAfterTheOffset()
    {
        // Ranges [0, 255]: step = 1 exactly, so q = x − min with no float rounding in the way.
        var ranges = new QuantizationRanges([0f, 0f, 0f, 0f, 0f, 3f], [255f, 255f, 255f, 255f, 255f, 3f]);
        float[] x = [255f, 127.5f, 0.5f, 300f, -5f, 3f];
        // int8: trunc(q − 128): 127, trunc(−0.5) = 0, trunc(−127.5) = −127 (toward zero), saturated 127 and −128 (numpy's
        // cast would wrap these), and a constant dimension (max = min) → −128.
        Assert.Equal(new sbyte[] { 127, 0, -127, 127, -128, -128 }, EmbeddingQuantization.ToInt8(x, ranges));
        // uint8: trunc(q): 255, 127, 0, 255, 0, 0 — so int8 is not uint8 − 128 when q has a fraction.
        Assert.Equal(new byte[] { 255, 127, 0, 255, 0, 0 }, EmbeddingQuantization.ToUint8(x, ranges));
        Assert.Throws<InputException>(() => EmbeddingQuantization.ToInt8([1f, 2f], ranges));
    }

    [Fact]
    public void CalibrationTakesPerDimensionMinAndMax()
    {
        var ranges = QuantizationRanges.Calibrate([[1f, -2f], [3f, 5f], [-4f, 0f]]);
        Assert.Equal(new[] { -4f, -2f }, ranges.Min);
        Assert.Equal(new[] { 3f, 5f }, ranges.Max);
        Assert.Throws<InputException>(() => QuantizationRanges.Calibrate([]));
        Assert.Throws<InputException>(() => QuantizationRanges.Calibrate([[1f], [1f, 2f]]));
    }

    [Fact]
    public void BinaryPacksSignBitsMostSignificantFirst()
    {
        // > 0 is a 1 bit (0 itself is 0), first value in the top bit; a partial last byte is padded with zeros.
        float[] x = [1f, -1f, 0f, 2f, 0.1f, -3f, 4f, 5f, /* next byte */ 1f, 1f];
        Assert.Equal(new byte[] { 0b1001_1011, 0b1100_0000 }, EmbeddingQuantization.ToUbinary(x));
        Assert.Equal(new sbyte[] { 0b1001_1011 - 128, 0b1100_0000 - 128 }, EmbeddingQuantization.ToBinary(x));
        Assert.Equal(2, EmbeddingQuantization.BytesPerVector(VectorPrecision.Ubinary, 10));
        Assert.Equal(48, EmbeddingQuantization.BytesPerVector(VectorPrecision.Binary, 384));
        Assert.Equal(VectorPrecision.Ubinary, EmbeddingQuantization.Parse("ubinary"));
        Assert.Contains("expected one of float32, int8", Assert.Throws<InputException>(() => EmbeddingQuantization.Parse("int4")).Message);
    }

    [Fact]
    public void MatryoshkaTruncationRenormalises()
    {
        var v = EmbeddingDimensions.Truncate([3f, 4f, 12f], 2);
        Assert.Equal(new[] { 0.6f, 0.8f }, v);
        Assert.Equal(new[] { 0f }, EmbeddingDimensions.Truncate([0f, 1f], 1));
        Assert.Contains("more than this model's embedding size of 3", Assert.Throws<InputException>(() => EmbeddingDimensions.Truncate([1f, 2f, 3f], 4)).Message);
        Assert.Throws<InputException>(() => EmbeddingDimensions.Truncate([1f], 0));
    }
}
