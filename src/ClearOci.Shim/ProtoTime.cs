using System.Text;

namespace ClearOci.Shim;

/// <summary>google.protobuf.Timestamp, with Go's zero time for "never" (what containerd 1.6 sends).</summary>
public static class ProtoTime
{
    /// <summary>0001-01-01T00:00:00Z in Unix seconds.</summary>
    public const long GoZeroSeconds = -62135596800;

    public static byte[] Encode(DateTimeOffset? time)
    {
        if (time is not { } t) return Encode(GoZeroSeconds, 0);
        long ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rest);
        if (rest < 0) { seconds--; rest += TimeSpan.TicksPerSecond; }
        return Encode(seconds, (int)(rest * 100));
    }

    public static byte[] Encode(long seconds, int nanos) => new ProtoWriter().Int64(1, seconds).Int32(2, nanos).ToArray();

    public static DateTimeOffset? Decode(ReadOnlySpan<byte> data)
    {
        long seconds = 0;
        int nanos = 0;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            if (f == 1) seconds = r.Int64();
            else if (f == 2) nanos = r.Int32();
            else r.Skip();
        }
        if (seconds == GoZeroSeconds && nanos == 0) return null;
        return DateTimeOffset.UnixEpoch.AddTicks(seconds * TimeSpan.TicksPerSecond + nanos / 100);
    }
}
