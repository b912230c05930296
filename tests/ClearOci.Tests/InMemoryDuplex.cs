using System.IO.Pipelines;

namespace ClearOci.Tests;

/// <summary>
/// Two connected in-memory streams (like a socketpair), built from two System.IO.Pipelines pipes.
/// Disposing one end completes its writer, so the other end reads EOF. <c>maxRead</c> caps the
/// bytes one read returns, to exercise the readers' partial-read loops.
/// </summary>
internal static class InMemoryDuplex
{
    public static (DuplexStream A, DuplexStream B) CreatePair(int maxRead = int.MaxValue, long pauseWriterAt = 1 << 20)
    {
        var options = new PipeOptions(pauseWriterThreshold: pauseWriterAt, resumeWriterThreshold: pauseWriterAt / 2, useSynchronizationContext: false);
        var aToB = new Pipe(options);
        var bToA = new Pipe(options);
        return (new DuplexStream(bToA.Reader, aToB.Writer, maxRead), new DuplexStream(aToB.Reader, bToA.Writer, maxRead));
    }
}

internal sealed class DuplexStream(PipeReader reader, PipeWriter writer, int maxRead) : Stream
{
    private readonly Stream _in = reader.AsStream();
    private readonly Stream _out = writer.AsStream();
    private int _disposed;

    public int ReadCalls { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        ReadCalls++;
        return await _in.ReadAsync(buffer.Length > maxRead ? buffer[..maxRead] : buffer, ct).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, default).GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _out.WriteAsync(buffer, ct);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _out.WriteAsync(buffer, offset, count, ct);
    public override void Write(byte[] buffer, int offset, int count) => _out.Write(buffer, offset, count);
    public override Task FlushAsync(CancellationToken ct) => _out.FlushAsync(ct);
    public override void Flush() => _out.Flush();

    /// <summary>Ends this side's output: the peer reads EOF once it has read what was written.</summary>
    public void CompleteWrites() => writer.Complete();

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            writer.Complete();
            reader.Complete();
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
