using ClearOci.Agent;
using ClearOci.Native;

// Two roles in one static binary: the guest's PID 1 (the agent), and, re-executed by the agent
// inside fresh namespaces, the init stage that prepares one container process and execs it.
if (args.Length > 0 && args[0] == ContainerInit.Verb)
    return ContainerInit.Run();

if (Libc.getpid() != 1)
{
    Console.Error.WriteLine("clearoci-agent: runs as PID 1 of a ClearOci guest (or as `clearoci-agent init-container` from it)");
    return 2;
}
GuestBoot.Run();
return 0; // not reached: the guest powers off
