namespace ClearOci.Protocol;

internal static class FrameIo
{
    /// <summary>Fills the buffer; false if the stream ended before the first byte.</summary>
    public static async ValueTask<bool> ReadExactlyOrEofAsync(Stream s, Memory<byte> buffer, CancellationToken ct)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await s.ReadAsync(buffer[read..], ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0) return false;
                throw new ClearOciException(ErrorCode.Agent, "protocol: stream closed inside a frame");
            }
            read += n;
        }
        return true;
    }
}
