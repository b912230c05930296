using System.Net.Sockets;
using System.Runtime.InteropServices;
using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Shim;

return OperatingSystem.IsLinux() ? await ShimMain.RunAsync(args) : 1;

namespace ClearOci.Shim
{
    /// <summary>
    /// containerd-shim-clearoci-v2: `start` (find or spawn the group's daemon, print its address),
    /// `delete` (clean up after a dead task, print a DeleteResponse), and the daemon (`serve`,
    /// internal) that answers the Task service on the socket `start` bound.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    internal static class ShimMain
    {
        public const string Version = "0.1.0";
        private const int PR_SET_CHILD_SUBREAPER = 36;

        public static async Task<int> RunAsync(string[] args)
        {
            ShimFlags flags;
            try { flags = ShimFlags.Parse(args); }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"containerd-shim-clearoci-v2: {e.Message}");
                return 2;
            }
            if (flags.Version)
            {
                Console.Out.WriteLine($"containerd-shim-clearoci-v2:\n  Version: {Version}\n  Runtime: clearoci");
                return 0;
            }
            try
            {
                return flags.Action switch
                {
                    "start" => Start(flags),
                    "delete" => await DeleteAsync(flags).ConfigureAwait(false),
                    "serve" => await ServeAsync(flags).ConfigureAwait(false),
                    _ => Usage(flags.Action),
                };
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"containerd-shim-clearoci-v2 {flags.Action}: {e.Message}");
                return 1;
            }
        }

        private static int Usage(string action)
        {
            Console.Error.WriteLine(action.Length == 0
                ? "containerd-shim-clearoci-v2: containerd starts this program (-namespace NS -address SOCK -publish-binary BIN -id ID start|delete)"
                : $"containerd-shim-clearoci-v2: unknown action {action}");
            return 2;
        }

        /// <summary>
        /// `start`: one daemon per group (pod): reuse a live socket, else bind a new one, hand it
        /// to a new daemon in its own session, write `address`, print it. Nothing else may reach
        /// stdout or stderr (containerd reads them, combined, as the address).
        /// </summary>
        private static int Start(ShimFlags flags)
        {
            using (var stdin = Console.OpenStandardInput()) stdin.CopyTo(Stream.Null); // the runtime options Any, unused
            string bundle = Directory.GetCurrentDirectory();
            var annotations = ShimNaming.Annotations(File.ReadAllText(Path.Combine(bundle, "config.json")));
            string socketPath = ShimNaming.SocketPath(flags.Address, flags.Namespace, ShimNaming.GroupKey(annotations, flags.Id));
            string address = ShimNaming.SocketAddress(socketPath);
            if (IsLive(socketPath))
            {
                WriteAddress(bundle, address);
                Console.Out.Write(address);
                return 0;
            }
            Directory.CreateDirectory(ShimNaming.SocketDir);
            File.Delete(socketPath);
            File.SetUnixFileMode(ShimNaming.SocketDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            int listener = ListenSocket.Bind(socketPath, 64);
            try
            {
                File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                WriteAddress(bundle, address);
                int log = OpenLog(bundle);
                int devNull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
                try
                {
                    Spawner.Spawn(new SpawnOptions
                    {
                        Path = Environment.ProcessPath!,
                        Args = ["containerd-shim-clearoci-v2", .. flags.DaemonArgs(socketPath)],
                        Fds = new Dictionary<int, int> { [0] = devNull, [1] = log, [2] = log, [3] = listener },
                        NewSession = true,
                        WorkingDirectory = bundle,
                    });
                }
                finally
                {
                    Libc.close(log);
                    Libc.close(devNull);
                }
            }
            catch
            {
                File.Delete(socketPath);
                throw;
            }
            finally { Libc.close(listener); }
            Console.Out.Write(address);
            return 0;
        }

        private static bool IsLive(string socketPath)
        {
            if (!File.Exists(socketPath)) return false;
            using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                s.Connect(new UnixDomainSocketEndPoint(socketPath));
                return true;
            }
            catch (SocketException) { return false; }
        }

        private static void WriteAddress(string bundle, string address)
        {
            string tmp = Path.Combine(bundle, ".address.tmp");
            File.WriteAllText(tmp, address);
            File.Move(tmp, Path.Combine(bundle, "address"), overwrite: true);
        }

        /// <summary>The bundle's `log` FIFO, which containerd reads (else /dev/null).</summary>
        private static int OpenLog(string bundle)
        {
            int fd = Libc.open(Path.Combine(bundle, "log"), Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0) return Libc.Check(Libc.open("/dev/null", Libc.O_WRONLY | Libc.O_CLOEXEC, 0), "open /dev/null");
            Libc.fcntl(fd, Libc.F_SETFL, Libc.fcntl(fd, Libc.F_GETFL, 0) & ~Libc.O_NONBLOCK);
            return fd;
        }

        /// <summary>
        /// `delete`: containerd lost the task's shim (or it ended): force-delete this id's
        /// container in-process (only this one; a pod's sandbox takes the pod's other containers
        /// with its VM), unmount the rootfs, print DeleteResponse.
        /// </summary>
        private static async Task<int> DeleteAsync(ShimFlags flags)
        {
            string bundle = flags.Bundle.Length > 0 ? flags.Bundle : Directory.GetCurrentDirectory();
            string root = ShimNaming.ClearOciRoot(bundle, flags.Namespace);
            var runtime = new Lifecycle(new StateStore(root));
            // containerd kills `delete` after 5 s; whatever is done by then, the answer goes out.
            try { await RuntimeErrors.RunAsync("delete", () => runtime.Delete(flags.Id, force: true)).WaitAsync(TimeSpan.FromSeconds(4)).ConfigureAwait(false); }
            catch (RpcException e) { Console.Error.WriteLine(e.Message); }
            catch (TimeoutException)
            {
                // The VM is still going down: an orphaned `clearoci delete --force` finishes the
                // job (state directory, poststop hooks) after this process is gone.
                Console.Error.WriteLine($"delete {flags.Id}: not done after 4 s; `clearoci delete --force` goes on in the background");
                FinishDeleteInBackground(root, flags.Id);
            }
            RootfsMounts.Unmount(Path.Combine(bundle, "rootfs"));
            uint pid = uint.MaxValue;
            try { pid = uint.Parse(File.ReadAllText(Path.Combine(bundle, "init.pid")).Trim()); }
            catch (Exception e) when (e is IOException or FormatException or OverflowException) { }
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(TaskResponses.Delete(pid, 128 + 9, DateTimeOffset.UtcNow));
            return 0;
        }

        private static void FinishDeleteInBackground(string root, string id)
        {
            int devNull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
            try
            {
                Spawner.Spawn(new SpawnOptions
                {
                    Path = ShimNaming.ClearOciExecutable(),
                    Args = ["clearoci", "--root", root, "delete", "--force", id],
                    Fds = new Dictionary<int, int> { [0] = devNull, [1] = devNull, [2] = devNull },
                    NewSession = true,
                    WorkingDirectory = "/",
                });
            }
            catch (ClearOciException e) { Console.Error.WriteLine($"clearoci delete --force {id}: {e.Message}"); }
            finally { Libc.close(devNull); }
        }

        /// <summary>The daemon: subreaper, reaper thread, ttrpc on fd 3, events to containerd; exits after the last Shutdown.</summary>
        private static async Task<int> ServeAsync(ShimFlags flags)
        {
            ThreadPool.SetMinThreads(16, 16);
            Libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            Action<string> log = flags.Debug
                ? m => { try { Console.Error.WriteLine($"{DateTimeOffset.UtcNow:O} clearoci-shim[{Environment.ProcessId}]: {m}"); } catch (IOException) { } }
                : _ => { };
            if (flags.Debug) DebugLog.Sink = m => log($"clearoci: {m}");
            var reaper = new Reaper();
            new Thread(reaper.ReapAll) { IsBackground = true, Name = "reaper" }.Start();
            var events = new EventPublisher(flags.Namespace, Environment.GetEnvironmentVariable("TTRPC_ADDRESS"),
                e => PublishWithBinaryAsync(flags, reaper, e), m => log(m));
            var tasks = new TaskService(flags, ShimNaming.ClearOciExecutable(), reaper, events, log);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            TtrpcService service = tasks.HandleAsync;
            var server = new TtrpcServer(new Dictionary<string, TtrpcService> { [TaskService.ServiceV2] = service, [TaskService.ServiceV3] = service }, log,
                afterResponse: () => { if (tasks.ExitRequested) done.TrySetResult(); });
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; done.TrySetResult(); });
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; done.TrySetResult(); });

            using var listener = new Socket(new SafeSocketHandle(3, ownsHandle: true));
            using var stop = new CancellationTokenSource();
            _ = AcceptAsync(listener, server, log, stop.Token);
            await done.Task.ConfigureAwait(false);
            log("shutting down");
            stop.Cancel();
            if (!tasks.ExitRequested) await tasks.CleanupAllAsync().ConfigureAwait(false);
            await events.FlushAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            if (flags.Socket.Length > 0) File.Delete(flags.Socket);
            return 0;
        }

        private static async Task AcceptAsync(Socket listener, TtrpcServer server, Action<string> log, CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                Socket client;
                try { client = await listener.AcceptAsync(ct).ConfigureAwait(false); }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { return; }
                catch (Exception e)
                {
                    // EMFILE, ECONNABORTED...: the shim must stay reachable while it has containers.
                    log($"accept: {e.Message}");
                    try { await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
                    continue;
                }
                _ = Task.Run(async () =>
                {
                    await using var stream = new NetworkStream(client, ownsSocket: true);
                    await server.ServeAsync(stream, ct).ConfigureAwait(false);
                }, CancellationToken.None);
            }
        }

        /// <summary>Without $TTRPC_ADDRESS: `containerd --address A publish --topic T --namespace N` with the Any on stdin.</summary>
        private static async Task<bool> PublishWithBinaryAsync(ShimFlags flags, Reaper reaper, TaskEvent e)
        {
            if (flags.PublishBinary.Length == 0) return false;
            var runner = new ChildRunner(flags.PublishBinary, reaper.Watch);
            var result = await runner.RunAsync(["containerd", "--address", flags.Address, "publish", "--topic", e.Topic, "--namespace", flags.Namespace],
                input: e.Event.Encode()).ConfigureAwait(false);
            return result.Ok;
        }
    }
}
