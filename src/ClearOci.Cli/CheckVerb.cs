using System.CommandLine;
using ClearOci.Native;
using ClearOci.Vmm;

namespace ClearOci.Cli;

/// <summary>`check`: can this host start VMs, and how. Non-zero when it cannot.</summary>
internal static class CheckVerb
{
    public static Command Build()
    {
        var printArgv = new Option<bool>("--print-qemu-argv") { Description = "print, one per line, the QEMU argv of a bare VM (the agent powers off once ready): the benchmark floor" };
        var cmd = new Command("check", "report what this host offers for VMs; exits non-zero if a VM cannot start here") { printArgv };
        cmd.SetAction((p, ct) => App.Execute(p, () => Task.FromResult(p.GetValue(printArgv) ? PrintBareArgv() : Run())));
        return cmd;
    }

    private static int Run()
    {
        var problems = new List<string>();
        StandardStreams.Out.WriteLine($"config:       {HostConfig.Source ?? $"built-in defaults (no {HostConfig.DefaultPath})"}");
        var settings = VmSettings.Load();
        StandardStreams.Out.WriteLine($"vm:           {settings.MemoryMiB} MiB, {settings.Vcpus} vCPU(s) by default (a container's linux.resources can raise them)");
        var host = HostInfo.Probe();
        StandardStreams.Out.WriteLine($"accelerator:  {(host.KvmUsable ? "kvm" : $"tcg (software emulation; {host.KvmError})")}");
        StandardStreams.Out.WriteLine($"vhost-vsock:  {(host.VhostVsock ? "yes (agent channel over vsock)" : "no (agent channel over virtio-serial)")}");
        StandardStreams.Out.WriteLine($"qemu:         {(host.Qemu is null ? "not found" : $"{host.Qemu} ({QemuVersion(host.Qemu)})")}");
        if (host.Qemu is null) problems.Add("qemu-system-x86_64 not found (apt-get install qemu-system-x86)");
        StandardStreams.Out.WriteLine($"virtiofsd:    {host.Virtiofsd ?? "not found"}");
        if (host.Virtiofsd is null) problems.Add("virtiofsd not found (apt-get install qemu-system-x86)");
        StandardStreams.Out.WriteLine($"ksm:          {host.KsmRun}");
        try
        {
            var a = GuestAssets.Locate();
            StandardStreams.Out.WriteLine($"assets:       {a.Directory} (version {a.Version})");
            StandardStreams.Out.WriteLine($"  kernel:     {a.Kernel}");
            StandardStreams.Out.WriteLine($"  image:      {a.Image ?? "none (initramfs only)"}");
            StandardStreams.Out.WriteLine($"  initramfs:  {a.Initramfs ?? "none"}");
        }
        catch (ClearOciException e)
        {
            StandardStreams.Out.WriteLine($"assets:       missing");
            problems.Add(e.Message);
        }
        foreach (var p in problems) StandardStreams.Error.WriteLine($"clearoci check: {p}");
        StandardStreams.Out.WriteLine(problems.Count == 0 ? "result:       VMs can start here" : "result:       VMs cannot start here");
        return problems.Count == 0 ? 0 : 1;
    }

    private static int PrintBareArgv()
    {
        var settings = VmSettings.Load();
        var options = new VmOptions
        {
            Name = "bare", RuntimeDir = "/nonexistent", Assets = GuestAssets.Locate(), Host = HostInfo.Probe(),
            MemoryMiB = settings.MemoryMiB, Vcpus = settings.Vcpus, Root = settings.Root, TcgCacheMiB = settings.TcgCacheMiB,
        };
        foreach (var arg in QemuCommandLine.Build(VirtualMachine.PlanQemu(options, [], consoleLog: null, bare: true)))
            StandardStreams.Out.WriteLine(arg);
        return 0;
    }

    private static string QemuVersion(string qemu)
    {
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(qemu, "--version") { RedirectStandardOutput = true });
            string first = p!.StandardOutput.ReadLine() ?? "";
            p.WaitForExit();
            return first.Replace("QEMU emulator version ", "");
        }
        catch (System.ComponentModel.Win32Exception e) { return $"unusable: {e.Message}"; }
    }
}
