namespace ClearOci.Native;

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
