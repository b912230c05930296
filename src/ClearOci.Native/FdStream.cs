using Microsoft.Win32.SafeHandles;

namespace ClearOci.Native;

/// <summary>
/// A full-duplex stream over one fd (a character device or a socket): one handle reads, a dup
/// writes, so a blocked read never holds up a write. Reads block a thread.
/// </summary>
public sealed class FdStream : UnseekableStream
{
    private readonly FileStream _read, _write;

    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    public FdStream(int fd) : this(fd, Libc.Check(Libc.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 3), "dup")) { }

    private FdStream(int readFd, int writeFd)
    {
        _read = new FileStream(new SafeFileHandle(readFd, true), FileAccess.Read, 0);
        _write = new FileStream(new SafeFileHandle(writeFd, true), FileAccess.Write, 0);
    }

    public static FdStream Open(string device) =>
        new(Libc.Check(Libc.open(device, Libc.O_RDWR | Libc.O_CLOEXEC | Libc.O_NOCTTY, 0), $"open {device}"));

    public override int Read(byte[] buffer, int offset, int count) => _read.Read(buffer, offset, count);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _read.ReadAsync(buffer, ct);
    public override void Write(byte[] buffer, int offset, int count) => _write.Write(buffer, offset, count);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _write.WriteAsync(buffer, ct);
    public override void Flush() => _write.Flush();
    public override Task FlushAsync(CancellationToken ct) => _write.FlushAsync(ct);
    public override bool CanRead => true;
    public override bool CanWrite => true;

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _read.Dispose(); _write.Dispose(); }
        base.Dispose(disposing);
    }
}
