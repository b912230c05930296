using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>Writes host stdin into a process's pipe on its own task, so one full pipe stalls no other stream.</summary>
internal sealed class StdinSink
{
    private readonly System.Threading.Channels.Channel<ReadOnlyMemory<byte>> _queue =
        System.Threading.Channels.Channel.CreateUnbounded<ReadOnlyMemory<byte>>();

    public StdinSink(int fd)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var data in _queue.Reader.ReadAllAsync())
                    Libc.WriteAll(fd, data.Span);
            }
            catch (ClearOciException) { /* the process closed its stdin */ }
            finally { Libc.close(fd); }
        });
    }

    public void Write(ReadOnlyMemory<byte> data) => _queue.Writer.TryWrite(data);
    public void Complete() => _queue.Writer.TryComplete();
}
