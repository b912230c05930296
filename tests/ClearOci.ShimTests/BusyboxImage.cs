using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;

namespace ClearOci.ShimTests;

/// <summary>
/// A one-layer OCI image layout (tar) made here from Debian's busybox-static, for
/// `ctr images import`: no registry, no umoci, no docker.
/// </summary>
public static class BusyboxImage
{
    public const string BusyboxPath = "/bin/busybox";
    private static readonly string[] Applets = ["sh", "echo", "sleep", "cat", "ls", "true", "false", "ps", "hostname", "mount", "id"];

    /// <summary><paramref name="cmd"/> is the image's Cmd as JSON (a CRI sandbox image must keep running).</summary>
    public static void Write(string tarPath, string cmd = "[\"sh\"]")
    {
        if (!File.Exists(BusyboxPath)) Assert.Ignore($"{BusyboxPath} (busybox-static) is needed for the test image");
        byte[] layer = Layer();
        byte[] config = Json($$$"""{"architecture":"amd64","os":"linux","config":{"Cmd":{{{cmd}}},"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":["{{{Digest(layer)}}}"]}}""");
        byte[] manifest = Json($$$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{{Digest(config)}}}","size":{{{config.Length}}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{{Digest(layer)}}}","size":{{{layer.Length}}}}]}""");
        byte[] index = Json($$$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{Digest(manifest)}}}","size":{{{manifest.Length}}},"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}""");
        using var file = File.Create(tarPath);
        using var tar = new TarWriter(file, TarEntryFormat.Pax);
        Add(tar, "oci-layout", Json("""{"imageLayoutVersion":"1.0.0"}"""));
        Add(tar, "index.json", index);
        foreach (var blob in new[] { layer, config, manifest }) Add(tar, "blobs/sha256/" + Digest(blob)["sha256:".Length..], blob);
    }

    private static byte[] Layer()
    {
        using var ms = new MemoryStream();
        using (var tar = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var d in new[] { "bin", "dev", "etc", "proc", "sys", "tmp", "root", "run" })
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, d) { Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute });
            var bb = new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox")
            {
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
                DataStream = new MemoryStream(File.ReadAllBytes(BusyboxPath)),
            };
            tar.WriteEntry(bb);
            foreach (var a in Applets) tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + a) { LinkName = "busybox" });
        }
        return ms.ToArray();
    }

    private static void Add(TarWriter tar, string name, byte[] data) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead });

    private static byte[] Json(string s) => Encoding.UTF8.GetBytes(s);

    private static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
