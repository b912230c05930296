namespace ClearOci.Spec;

/// <summary>
/// The guest's own /etc/hostname, /etc/hosts and /etc/resolv.conf, rendered from a container's
/// config. Pure: the agent reads the inputs and writes the result (the guest keeps nothing across
/// boots, so these are made afresh each time).
/// </summary>
public sealed record GuestEtcFiles(string Hostname, string Hosts, string ResolvConf)
{
    /// <summary>The longest name the kernel's UTS namespace holds.</summary>
    public const int MaxHostnameLength = 64;

    public const string ResolvConfPath = "/etc/resolv.conf";

    private const string LocalhostLines = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

    /// <summary>What the guest has before any container: localhost only, no nameserver.</summary>
    public static GuestEtcFiles Default { get; } = new("localhost", LocalhostLines, "");

    /// <summary>
    /// Files for the VM of <paramref name="containerId"/>: its config's hostname (else its id, cut
    /// to <see cref="MaxHostnameLength"/>) on 127.0.1.1 beside the localhost lines, and
    /// <paramref name="resolvConf"/> as given (null: empty).
    /// </summary>
    public static GuestEtcFiles Render(OciSpec spec, string containerId, string? resolvConf)
    {
        string name = string.IsNullOrEmpty(spec.Hostname) ? containerId : spec.Hostname;
        if (name.Length > MaxHostnameLength) name = name[..MaxHostnameLength];
        return new GuestEtcFiles(name, $"{LocalhostLines}127.0.1.1\t{name}\n", resolvConf ?? "");
    }

    /// <summary>The source of the config's last mount at /etc/resolv.conf (the one that wins), if any.</summary>
    public static string? ResolvConfSource(OciSpec spec) =>
        spec.Mounts?.LastOrDefault(m => IsResolvConf(m.Destination) && !string.IsNullOrEmpty(m.Source))?.Source;

    /// <summary>How many <c>nameserver</c> lines <see cref="ResolvConf"/> holds.</summary>
    public int Nameservers => NameserversOf(ResolvConf).Count();

    /// <summary>The values of a resolv.conf text's <c>nameserver</c> lines, in order.</summary>
    public static IEnumerable<string> NameserversOf(string resolvConf)
    {
        foreach (var line in resolvConf.Split('\n'))
        {
            var words = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 2 && words[0] == "nameserver") yield return words[1];
        }
    }

    private static bool IsResolvConf(string destination) =>
        string.Join('/', destination.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".")) == ResolvConfPath[1..];
}
