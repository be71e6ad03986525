using System.Buffers;

namespace NativeTransformer.Weights;

/// <summary>
/// Exposes float32 data that lives inside a <see cref="MappedFile"/> as <see cref="Memory{T}"/> without copying.
/// </summary>
/// <remarks>
/// Only used for 4-byte-aligned data on little-endian hosts; <see cref="SafetensorsFile"/> copies other F32 tensors
/// once instead. (Unaligned float loads would work on x64 and ARM64, but aligned data is safe for every consumer,
/// including vector code that assumes natural alignment. Files from Hugging Face's writer are always aligned.)
/// Getting a span after the file is disposed throws <see cref="ObjectDisposedException"/>; a span obtained earlier
/// must not outlive the file.
/// </remarks>
internal sealed unsafe class MappedFloatMemory : MemoryManager<float>
{
    private readonly MappedFile _file;
    private readonly long _offset;
    private readonly int _length;

    public MappedFloatMemory(MappedFile file, long offset, int length)
    {
        _file = file; _offset = offset; _length = length;
    }

    private float* Pointer => (float*)(_file.Base + _offset);

    public override Span<float> GetSpan() => new(Pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        if ((uint)elementIndex > (uint)_length) throw new ArgumentOutOfRangeException(nameof(elementIndex));
        return new MemoryHandle(Pointer + elementIndex); // mapped memory never moves: nothing to pin
    }

    public override void Unpin() { }

    protected override void Dispose(bool disposing) { } // the mapping belongs to the SafetensorsFile
}
