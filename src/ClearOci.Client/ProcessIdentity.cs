namespace ClearOci.Client;

/// <summary>A pid plus its start time (field 22 of /proc/PID/stat), so a reused pid is never taken for ours.</summary>
public static class ProcessIdentity
{
    public static ulong StartTime(int pid)
    {
        try { return ParseStartTime(File.ReadAllText($"/proc/{pid}/stat")); }
        catch (IOException) { return 0; }
    }

    /// <summary>Field 22 of a /proc/PID/stat line; the command name may hold spaces and parentheses.</summary>
    public static ulong ParseStartTime(string stat)
    {
        int close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        return ulong.Parse(fields[22 - 3]);
    }

    public static bool IsAlive(int pid, ulong startTime)
    {
        ulong now = StartTime(pid);
        if (now == 0 || now != startTime) return false;
        try { return !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z "); }
        catch (IOException) { return false; }
    }
}
