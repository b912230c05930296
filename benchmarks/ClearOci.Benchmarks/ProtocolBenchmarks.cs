using BenchmarkDotNet.Attributes;
using ClearOci.Protocol;

namespace ClearOci.Benchmarks;

/// <summary>The control message that carries a container's config.json into the guest.</summary>
[MemoryDiagnoser]
public class ControlChannelBenchmarks
{
    private readonly CreateContainer _message = new()
    {
        Id = 2,
        ContainerId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ConfigJson = Samples.DockerConfigJson,
        RootfsTag = "rootfs",
        Stdio = new StdioStreams { Stdin = 1, Stdout = 2, Stderr = 3 },
    };

    [Benchmark]
    public Message EncodeDecodeCreateContainer()
    {
        byte[] frame = ControlChannel.Encode(_message);
        return ControlChannel.Decode(frame.AsSpan(4));
    }
}

/// <summary>One 64 KiB stdout frame written to and read back from an in-memory stream.</summary>
[MemoryDiagnoser]
public class IoChannelBenchmarks
{
    private readonly MemoryStream _stream = new(IoChannel.HeaderBytes + IoChannel.MaxChunk);
    private readonly byte[] _data = new byte[64 * 1024];
    private IoChannel _channel = null!;

    [GlobalSetup]
    public void Setup()
    {
        new Random(42).NextBytes(_data);
        _channel = new IoChannel(_stream);
    }

    [Benchmark]
    public async Task<int> FrameRoundTrip64KiB()
    {
        _stream.SetLength(0);
        await _channel.SendAsync(2, _data);
        _stream.Position = 0;
        IoFrame? frame = await _channel.ReceiveAsync();
        return frame!.Value.Data.Length;
    }

    [GlobalCleanup]
    public ValueTask Cleanup() => _channel.DisposeAsync();
}
