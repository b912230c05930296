using ClearOci.Native;
using Microsoft.Win32.SafeHandles;

namespace ClearOci.Shim;

/// <summary>
/// A process's stdio from containerd's strings (shim-v2.md §3.4): "" is /dev/null, a path (or
/// fifo://) is a FIFO the client made, file:// appends to a file. stdout and stderr go to the
/// child directly; stdin is copied through a pipe so CloseIO (and the exit) can end it.
/// With a terminal, clearoci sends the pty master to a console socket of ours, and the shim
/// copies stdin FIFO → master → stdout FIFO (as runc's shim does).
/// </summary>
public sealed class ProcessIo : IDisposable
{
    private readonly List<int> _childEnds = new();
    private FileStream? _stdinWriter;
    private readonly object _lock = new();
    private ConsoleReceiver? _console;
    private int _master = -1;
    private string _stdinPath = "", _stdoutPath = "";

    /// <summary>For --console-socket when the process has a terminal.</summary>
    public string? ConsoleSocket => _console?.SocketPath;

    public int Stdin { get; private set; } = -1;
    public int Stdout { get; private set; } = -1;
    public int Stderr { get; private set; } = -1;

    public (int In, int Out, int Err) Fds => (Stdin, Stdout, Stderr);

    public static ProcessIo Open(string stdin, string stdout, string stderr, bool terminal = false)
    {
        var io = new ProcessIo();
        try
        {
            if (terminal)
            {
                io._console = ConsoleReceiver.Create();
                (io._stdinPath, io._stdoutPath) = (stdin, stdout);
                io.Stdin = io.OpenOutput("");
                io.Stdout = io.Stderr = io.Stdin;
                return io;
            }
            io.Stdout = io.OpenOutput(stdout);
            io.Stderr = stderr == stdout && stdout.Length > 0 ? io.Stdout : io.OpenOutput(stderr);
            if (stdin.Length == 0) io.Stdin = io.Keep(Libc.Check(Libc.open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open /dev/null"));
            else
            {
                string path = FifoPath(stdin, "stdin");
                var (r, w) = Libc.Pipe();
                io.Stdin = io.Keep(r);
                io._stdinWriter = new FileStream(new SafeFileHandle(w, true), FileAccess.Write, 0);
                var t = new Thread(() => io.CopyStdin(path)) { IsBackground = true, Name = "stdin" };
                t.Start();
            }
            return io;
        }
        catch
        {
            io.Dispose();
            throw;
        }
    }

    private int Keep(int fd)
    {
        _childEnds.Add(fd);
        return fd;
    }

    private int OpenOutput(string uri) => Keep(OpenOutputFd(uri));

    private static int OpenOutputFd(string uri)
    {
        if (uri.Length == 0) return Libc.Check(Libc.open("/dev/null", Libc.O_WRONLY | Libc.O_CLOEXEC, 0), "open /dev/null");
        if (uri.StartsWith("file://", StringComparison.Ordinal))
        {
            string file = new Uri(uri).LocalPath;
            Libc.MkdirAll(Path.GetDirectoryName(file) ?? "/");
            return Libc.Check(Libc.open(file, Libc.O_WRONLY | Libc.O_CREAT | 0x400 /* O_APPEND */ | Libc.O_CLOEXEC, 0x1a4), $"open {file}");
        }
        // O_RDWR: opening a FIFO this way never blocks, even if the client has not opened its end yet.
        string path = FifoPath(uri, "stdout/stderr");
        return Libc.Check(Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0), $"open {path}");
    }

    private static string FifoPath(string uri, string what)
    {
        if (uri.StartsWith("fifo://", StringComparison.Ordinal)) return uri["fifo://".Length..];
        if (uri.Contains("://", StringComparison.Ordinal))
            throw new RpcException(RpcCode.Unimplemented, $"{what} {uri}: only FIFO paths and file:// are supported by containerd-shim-clearoci-v2");
        return uri;
    }

    /// <summary>Client FIFO → pipe, until the client closes it or CloseIO/exit closes the pipe.</summary>
    private void CopyStdin(string path)
    {
        int fifo = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0); // blocks until the client opens its end
        if (fifo < 0) { CloseStdin(); return; }
        try
        {
            var buffer = new byte[32 * 1024];
            while (true)
            {
                int n;
                try { n = Libc.Read(fifo, buffer); }
                catch (ClearOciException) { break; }
                if (n == 0) break;
                FileStream? w;
                lock (_lock) w = _stdinWriter;
                if (w == null) break;
                try { w.Write(buffer, 0, n); }
                catch (Exception e) when (e is IOException or ObjectDisposedException) { break; }
            }
        }
        finally
        {
            Libc.close(fifo);
            CloseStdin();
        }
    }

    /// <summary>After clearoci sent the master: relay the client's FIFOs through it.</summary>
    public void AttachTerminal()
    {
        if (_console is null) return;
        _master = _console.Receive(TimeSpan.FromSeconds(10));
        _console.Dispose();
        _console = null;
        int output = OpenOutputFd(_stdoutPath);
        int master = Libc.Check(Libc.fcntl(_master, 1030 /* F_DUPFD_CLOEXEC */, 3), "dup");
        new Thread(() => CopyTerminalOutput(master, output)) { IsBackground = true, Name = "tty-out" }.Start();
        if (_stdinPath.Length > 0)
        {
            string path = FifoPath(_stdinPath, "stdin");
            _stdinWriter = new FileStream(new SafeFileHandle(Libc.Check(Libc.fcntl(_master, 1030, 3), "dup"), true), FileAccess.Write, 0);
            new Thread(() => CopyStdin(path)) { IsBackground = true, Name = "tty-in" }.Start();
        }
    }

    /// <summary>master → stdout FIFO until the pty's other side is gone (EIO), then close it: the client sees EOF.</summary>
    private static void CopyTerminalOutput(int master, int output)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            while (true)
            {
                int n;
                try { n = Libc.Read(master, buffer); }
                catch (ClearOciException) { break; }
                if (n == 0) break;
                try { Libc.WriteAll(output, buffer.AsSpan(0, n)); }
                catch (ClearOciException) { break; }
            }
        }
        finally
        {
            Libc.close(master);
            Libc.close(output);
        }
    }

    /// <summary>ResizePty: the window size of the terminal (clearoci follows it into the guest).</summary>
    public void Resize(uint width, uint height)
    {
        if (_master >= 0) Pty.SetSize(_master, (ushort)height, (ushort)width);
    }

    /// <summary>The process reads EOF on stdin (CloseIO, or the process is gone).</summary>
    public void CloseStdin()
    {
        FileStream? w;
        lock (_lock) { w = _stdinWriter; _stdinWriter = null; }
        w?.Dispose();
    }

    /// <summary>After the child has its copies: the shim keeps none of the child's ends.</summary>
    public void CloseChildEnds()
    {
        foreach (var fd in _childEnds.Distinct()) Libc.close(fd);
        _childEnds.Clear();
    }

    public void Dispose()
    {
        CloseChildEnds();
        CloseStdin();
        _console?.Dispose();
        int master = Interlocked.Exchange(ref _master, -1);
        if (master >= 0) Libc.close(master);
    }
}
