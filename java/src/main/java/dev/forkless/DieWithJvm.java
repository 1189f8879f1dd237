package dev.forkless;

import dev.forkless.internal.Cgroups;
import dev.forkless.internal.ExitState;
import dev.forkless.internal.NativeProcess;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The rest of {@link Command#dieWithParent()}, beyond the kernel's parent-death signal (which
 * covers the child alone):
 * <ul>
 *   <li>a shutdown hook that kills every such child still running, with its process group when
 *       it leads one (its cgroup is killed by {@link Cgroups}' own hook);</li>
 *   <li>for children with a cgroup, a watchdog that kills their cgroups however the JVM ends,
 *       {@code SIGKILL} included: a small {@code /bin/sh} in a session of its own, ignoring the
 *       terminal's signals, blocked reading a pipe whose only writer is this JVM. When the JVM
 *       dies the kernel closes that end, the read returns, and the shell writes "1" to
 *       {@code cgroup.kill} of the directory holding every such leaf. Needs Linux 5.14
 *       ({@code cgroup.kill}); before that only the shutdown hook and the parent-death signal
 *       act.</li>
 * </ul>
 * Hazard: the pipe's write end is close-on-exec and Forkless passes children nothing else, but a
 * native library that forks without exec would hold a copy and delay the watchdog until that fork
 * exits.
 */
final class DieWithJvm {
    private static final Map<ExitState, NativeProcess> LIVE = new ConcurrentHashMap<>();
    private static final AtomicBoolean HOOKED = new AtomicBoolean();
    private static final Object WATCHDOG_LOCK = new Object();
    private static Child watchdog;        // guarded by WATCHDOG_LOCK; never closed
    private static OwnedFd watchdogPipe;  // guarded by WATCHDOG_LOCK; the write end, never closed

    /** The watchdog's script: $0 is the cgroup to kill. */
    private static final String WATCHDOG_SCRIPT =
            "trap '' INT QUIT HUP TERM PIPE; read -r _; echo 1 > \"$0/cgroup.kill\"";

    private DieWithJvm() {
    }

    static void register(NativeProcess process, ExitState state) {
        if (HOOKED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(DieWithJvm::killAll, "forkless-die-with-jvm"));
        }
        LIVE.put(state, process);
        state.future().whenComplete((exit, lost) -> LIVE.remove(state));
    }

    /**
     * Starts the watchdog of the die-with-JVM cgroups, once. A failure is logged: the children
     * are still killed by the kernel's parent-death signal and, on a normal exit, the hooks.
     */
    static void guardCgroups() {
        synchronized (WATCHDOG_LOCK) {
            if (watchdog != null) {
                return;
            }
            Optional<Path> dir = Cgroups.dieDirectory();
            if (dir.isEmpty()) {
                return;
            }
            OwnedFd.Pipe pipe = null;
            try {
                pipe = OwnedFd.pipe();
                watchdog = Command.of("/bin/sh", "-c", WATCHDOG_SCRIPT, dir.get().toString())
                        .stdin(Stdio.fd(pipe.reader())).stdout(Stdio.nul()).stderr(Stdio.nul())
                        .newSession().onClose(CloseAction.LEAVE_RUNNING).spawn();
                watchdogPipe = pipe.writer();
                pipe.reader().close();
            } catch (IOException | RuntimeException e) {
                if (pipe != null) {
                    pipe.close();
                }
                System.getLogger("dev.forkless").log(System.Logger.Level.WARNING,
                        "cannot start the watchdog that kills dieWithParent() cgroups when this JVM dies;"
                                + " a SIGKILL of the JVM will kill such children only, not their trees", e);
            }
        }
    }

    /** The watchdog's PID and its pipe end's descriptor, for tests; null before it runs. */
    static long[] watchdogForTests() {
        synchronized (WATCHDOG_LOCK) {
            return watchdog == null ? null : new long[] {watchdog.pid(), watchdogPipe.rawFd(), watchdog.exitFd()};
        }
    }

    private static void killAll() {
        for (NativeProcess p : LIVE.values()) {
            try {
                p.signalGroup(Signal.KILL.number()); // -EINVAL if it leads no group: nothing sent
                p.signal(Signal.KILL.number());
            } catch (RuntimeException released) {
                // Closed with LEAVE_RUNNING: the handle is gone; the parent-death signal remains.
            }
        }
    }
}
