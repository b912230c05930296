using System.Buffers.Binary;
using ClearOci.Protocol;
using ClearOci.Spec;

namespace ClearOci.Tests;

public class IoChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static byte[] Random(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static async Task<List<IoFrame>> ReceiveAll(IoChannel channel)
    {
        var frames = new List<IoFrame>();
        while (await channel.ReceiveAsync().WaitAsync(Timeout) is { } f) frames.Add(f);
        return frames;
    }

    [Test]
    public void HeaderIsStreamFlagsLengthBigEndian()
    {
        Span<byte> h = stackalloc byte[IoChannel.HeaderBytes];
        IoChannel.WriteHeader(h, 0x01020304, eof: true, 0x0A0B0C0D);
        Assert.That(h.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3, 4, 1, 0x0A, 0x0B, 0x0C, 0x0D }));
        IoChannel.WriteHeader(h, 2, eof: false, 5);
        Assert.That(h.ToArray(), Is.EqualTo(new byte[] { 0, 0, 0, 2, 0, 0, 0, 0, 5 }));
    }

    [Test]
    public async Task DataThenEofFrames()
    {
        var (a, b) = InMemoryDuplex.CreatePair();
        await using var sender = new IoChannel(a);
        await using var receiver = new IoChannel(b);
        await sender.SendAsync(2, "hello\n"u8.ToArray());
        await sender.SendEofAsync(2);
        await sender.SendEofAsync(3);
        a.CompleteWrites();
        var frames = await ReceiveAll(receiver);
        Assert.That(frames, Has.Count.EqualTo(3));
        Assert.That((frames[0].Stream, frames[0].Eof, frames[0].Data.ToArray()), Is.EqualTo((2u, false, "hello\n"u8.ToArray())));
        Assert.That((frames[1].Stream, frames[1].Eof, frames[1].Data.Length), Is.EqualTo((2u, true, 0)));
        Assert.That((frames[2].Stream, frames[2].Eof, frames[2].Data.Length), Is.EqualTo((3u, true, 0)));
    }

    [Test]
    public async Task EmptyDataSendsNoFrame()
    {
        var (a, b) = InMemoryDuplex.CreatePair();
        await using var sender = new IoChannel(a);
        await using var receiver = new IoChannel(b);
        await sender.SendAsync(1, ReadOnlyMemory<byte>.Empty);
        a.CompleteWrites();
        Assert.That(await ReceiveAll(receiver), Is.Empty, "a zero-length data frame would look like nothing, but must not be confused with EOF");
    }

    [TestCase(1, 1)]
    [TestCase(IoChannel.MaxChunk, 1)]
    [TestCase(IoChannel.MaxChunk + 1, 2)]
    [TestCase(3 * IoChannel.MaxChunk, 3)]
    [TestCase(1_000_000, 16)]
    public async Task PayloadsAreChunkedAtMaxChunk(int size, int expectedFrames)
    {
        var (a, b) = InMemoryDuplex.CreatePair(maxRead: 10_000);
        await using var sender = new IoChannel(a);
        await using var receiver = new IoChannel(b);
        byte[] payload = Random(size, size);
        var receiving = ReceiveAll(receiver);
        await sender.SendAsync(7, payload).WaitAsync(Timeout);
        await sender.SendEofAsync(7);
        a.CompleteWrites();
        var frames = await receiving;
        var data = frames.Where(f => !f.Eof).ToList();
        Assert.That(data, Has.Count.EqualTo(expectedFrames));
        Assert.That(data.All(f => f.Stream == 7 && f.Data.Length is > 0 and <= IoChannel.MaxChunk), Is.True);
        Assert.That(data.SelectMany(f => f.Data.ToArray()).ToArray(), Is.EqualTo(payload));
        Assert.That(frames[^1].Eof, Is.True);
    }

    [Test]
    public async Task InterleavedStreamsDemultiplexIntact()
    {
        var (a, b) = InMemoryDuplex.CreatePair(maxRead: 4099, pauseWriterAt: 64 * 1024);
        await using var sender = new IoChannel(a);
        await using var receiver = new IoChannel(b);
        var payloads = new Dictionary<uint, byte[]> { [1] = Random(700_001, 1), [2] = Random(300_000, 2), [3] = Random(1_000, 3), [4] = [] };
        var receiving = ReceiveAll(receiver);
        // Each writer sends in irregular pieces, concurrently with the others, then its EOF. A writer
        // that is a piece ahead of another unfinished one yields until that one caught up, so the
        // streams interleave however the machine schedules the tasks (the one behind never waits).
        var sent = payloads.Keys.ToDictionary(k => k, _ => 0);
        var finished = payloads.Keys.ToDictionary(k => k, _ => false);
        var turn = new object();
        bool Ahead(uint me)
        {
            lock (turn) return payloads.Keys.Any(k => k != me && !finished[k] && sent[k] < sent[me]);
        }
        await Task.WhenAll(payloads.Select(p => Task.Run(async () =>
        {
            var rnd = new Random((int)p.Key);
            for (int off = 0; off < p.Value.Length;)
            {
                int n = Math.Min(rnd.Next(1, 3 * IoChannel.MaxChunk), p.Value.Length - off);
                await sender.SendAsync(p.Key, p.Value.AsMemory(off, n));
                off += n;
                lock (turn) sent[p.Key]++;
                while (off < p.Value.Length && Ahead(p.Key)) await Task.Delay(1);
            }
            lock (turn) finished[p.Key] = true;
            await sender.SendEofAsync(p.Key);
        }))).WaitAsync(TimeSpan.FromSeconds(30));
        a.CompleteWrites();
        var frames = await receiving;

        var streamsSeen = frames.Select(f => f.Stream).ToList();
        int switches = streamsSeen.Zip(streamsSeen.Skip(1)).Count(p => p.First != p.Second);
        Assert.That(switches, Is.GreaterThan(payloads.Count), "the streams were actually interleaved");
        foreach (var (stream, payload) in payloads)
        {
            var mine = frames.Where(f => f.Stream == stream).ToList();
            Assert.That(mine.Count(f => f.Eof), Is.EqualTo(1), $"stream {stream}: one EOF");
            Assert.That(mine[^1].Eof, Is.True, $"stream {stream}: EOF comes last");
            Assert.That(mine.SelectMany(f => f.Data.ToArray()).ToArray(), Is.EqualTo(payload), $"stream {stream}: bytes intact and in order");
        }
    }

    private static async Task<ClearOciException> ReceiveRaw(byte[] raw)
    {
        var (a, b) = InMemoryDuplex.CreatePair(maxRead: 2);
        await a.WriteAsync(raw);
        a.CompleteWrites();
        await using var receiver = new IoChannel(b);
        var e = Assert.ThrowsAsync<ClearOciException>(async () => await receiver.ReceiveAsync().WaitAsync(Timeout));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.Agent));
        return e;
    }

    private static byte[] Header(uint stream, byte flags, int length)
    {
        var h = new byte[IoChannel.HeaderBytes];
        BinaryPrimitives.WriteUInt32BigEndian(h, stream);
        h[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(5), length);
        return h;
    }

    [TestCase(1)]
    [TestCase(8)]
    public async Task TruncatedHeaderRaises(int bytes)
    {
        var e = await ReceiveRaw(Header(1, 0, 10)[..bytes]);
        Assert.That(e.Message, Does.Contain("closed inside a frame"));
    }

    [Test]
    public async Task TruncatedDataRaises()
    {
        var e = await ReceiveRaw([.. Header(1, 0, 100), .. new byte[99]]);
        Assert.That(e.Message, Does.Contain("closed inside a frame"));
    }

    [TestCase(-1)]
    [TestCase(int.MinValue)]
    [TestCase(IoChannel.MaxChunk + 1)]
    [TestCase(int.MaxValue)]
    public async Task BadLengthRaises(int length)
    {
        var e = await ReceiveRaw([.. Header(1, 0, length), .. new byte[32]]);
        Assert.That(e.Message, Does.Contain("bad io frame length").And.Contain(length.ToString()));
    }

    [Test]
    public async Task FrameAfterFrameWithoutGapsThenCleanEnd()
    {
        var (a, b) = InMemoryDuplex.CreatePair(maxRead: 1);
        await a.WriteAsync((byte[])[.. Header(5, 0, 3), 1, 2, 3, .. Header(5, 1, 0)]);
        a.CompleteWrites();
        await using var receiver = new IoChannel(b);
        var frames = await ReceiveAll(receiver);
        Assert.That(frames.Select(f => (f.Stream, f.Eof, f.Data.Length)), Is.EqualTo(new[] { (5u, false, 3), (5u, true, 0) }));
    }
}
