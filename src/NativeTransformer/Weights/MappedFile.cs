using System.IO.MemoryMappedFiles;

namespace NativeTransformer.Weights;

/// <summary>
/// A whole file mapped read-only into memory, kept mapped until <see cref="Dispose"/>. Owns the pointer that every
/// zero-copy span and <see cref="MappedFloatMemory"/> of a <see cref="SafetensorsFile"/> points into.
/// </summary>
/// <remarks>
/// The mapping reflects the file on disk: if another process truncates the file while it is mapped, reading the lost
/// pages faults (SIGBUS). The file is opened with <see cref="FileShare.Read"/> to discourage that, but POSIX cannot forbid it.
/// </remarks>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private int _disposed;

    /// <summary>File length in bytes.</summary>
    public long Length { get; }

    /// <summary>Start of the mapped file. Invalid after <see cref="Dispose"/>.</summary>
    public byte* Base { get { ThrowIfDisposed(); return _base; } }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Maps <paramref name="stream"/> (taking ownership of it). The stream must not be empty.</summary>
    public MappedFile(FileStream stream)
    {
        Length = stream.Length;
        _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        try
        {
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _base = p + _view.PointerOffset;
        }
        catch
        {
            _view?.Dispose();
            _map.Dispose();
            throw;
        }
    }

    /// <summary>Bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of the file;
    /// the caller has validated the range.</summary>
    public ReadOnlySpan<byte> Span(long offset, int length) => new(Base + offset, length);

    public void ThrowIfDisposed()
    {
        if (IsDisposed) throw new ObjectDisposedException(nameof(SafetensorsFile), "the safetensors file has been disposed; its tensor memory is no longer valid");
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
