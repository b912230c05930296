using BenchmarkDotNet.Attributes;
using ClearOci.Protocol;
using ClearOci.Vmm;

namespace ClearOci.Benchmarks;

/// <summary>The argv of a typical `clearoci run` VM: q35, NVDIMM/DAX root, TCG, one virtio-fs share.</summary>
[MemoryDiagnoser]
public class QemuCommandLineBenchmarks
{
    private readonly QemuConfig _config = new()
    {
        Name = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        QemuBinary = "/usr/bin/qemu-system-x86_64",
        Accel = Accel.Tcg,
        Root = GuestRoot.NvdimmImage,
        Vcpus = 1,
        MemoryMiB = 128,
        Kernel = "/usr/local/share/clearoci/versions/50145542ef521307/vmlinux",
        Image = "/usr/local/share/clearoci/versions/50145542ef521307/clearoci.img",
        ImageBytes = 12 << 20,
        Shares = [("rootfs", "/run/clearoci/0123456789abcdef/vm/rootfs.sock")],
        ConsoleLog = "/run/clearoci/0123456789abcdef/vm/console.log",
        ChannelNames = new(ProtocolInfo.ControlPortName, ProtocolInfo.IoPortName, ProtocolInfo.VsockKernelArg),
    };

    [Benchmark]
    public IReadOnlyList<string> Build() => QemuCommandLine.Build(_config);
}
