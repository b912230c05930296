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

/// <summary>
/// A one-fd stream over plain read(2)/write(2): no buffering and no file position of its own, so
/// a file that the caller opened (perhaps shared by stdout and stderr, perhaps O_APPEND) is
/// written exactly as the process itself would write it. Owns the fd.
/// </summary>
public sealed class RawFdStream(int fd, bool canRead, bool canWrite) : UnseekableStream
{
    private int _fd = fd;

    public override int Read(byte[] buffer, int offset, int count) => Libc.Read(_fd, buffer.AsSpan(offset, count));
    /// <summary>Waits in poll(2) in short steps, so cancellation stops it before it consumes anything.</summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
        new(Task.Factory.StartNew(() =>
        {
            while (!Libc.WaitReadable(_fd, 100)) ct.ThrowIfCancellationRequested();
            ct.ThrowIfCancellationRequested();
            return Libc.Read(_fd, buffer.Span);
        }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default));
    public override void Write(byte[] buffer, int offset, int count) => Libc.WriteAll(_fd, buffer.AsSpan(offset, count));
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        try { Libc.WriteAll(_fd, buffer.Span); }
        catch (ClearOciException e) { throw new IOException(e.Message, e); }
        return ValueTask.CompletedTask;
    }
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
    public override bool CanRead => canRead;
    public override bool CanWrite => canWrite;

    protected override void Dispose(bool disposing)
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Libc.close(fd);
        base.Dispose(disposing);
    }
}

/// <summary>The part of <see cref="Stream"/> that a pipe, socket or terminal does not have.</summary>
public abstract class UnseekableStream : Stream
{
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
