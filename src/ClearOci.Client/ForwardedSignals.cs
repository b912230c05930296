namespace ClearOci.Client;

/// <summary>The signals a container's host forwards to it, as runc forwards them.</summary>
public static class ForwardedSignals
{
    /// <summary>HUP INT QUIT USR1 USR2 TERM WINCH.</summary>
    public static readonly int[] All = [1, 2, 3, 10, 12, 15, 28];

    /// <summary>HUP INT QUIT TERM: before the container runs, these end the start instead of reaching it.</summary>
    public static readonly int[] Terminating = [1, 2, 3, 15];
}
