using ClearOci.Native;
using Microsoft.Win32.SafeHandles;

namespace ClearOci.Agent;

/// <summary>A full-duplex stream over a character device or pipe pair: one fd to read, a dup to write.</summary>
internal sealed class PortStream : Stream
{
    private readonly FileStream _read, _write;

    private PortStream(int readFd, int writeFd)
    {
        _read = new FileStream(new SafeFileHandle(readFd, true), FileAccess.Read, 0);
        _write = new FileStream(new SafeFileHandle(writeFd, true), FileAccess.Write, 0);
    }

    public static PortStream Open(string device)
    {
        int fd = Libc.Check(Libc.open(device, Libc.O_RDWR | Libc.O_CLOEXEC | Libc.O_NOCTTY, 0), $"open {device}");
        int dup = Libc.Check(Libc.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 3), "dup");
        return new PortStream(fd, dup);
    }

    public override int Read(byte[] buffer, int offset, int count) => _read.Read(buffer, offset, count);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _read.ReadAsync(buffer, ct);
    public override void Write(byte[] buffer, int offset, int count) => _write.Write(buffer, offset, count);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _write.WriteAsync(buffer, ct);
    public override void Flush() => _write.Flush();
    public override Task FlushAsync(CancellationToken ct) => _write.FlushAsync(ct);
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _read.Dispose(); _write.Dispose(); }
        base.Dispose(disposing);
    }
}
