package dev.forkless;

import dev.forkless.internal.Callbacks;
import dev.forkless.internal.Cgroups;
import dev.forkless.internal.ExitState;
import dev.forkless.internal.Native;
import dev.forkless.internal.NativeProcess;
import dev.forkless.internal.Reactor;

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
 * The watchdog is a child like any other: the reactor sees it exit. Nothing ends it while this
 * JVM lives, so an exit means someone killed it (an {@code kill} of the wrong PID, an OOM kill, a
 * cleanup script); without it, a {@code SIGKILL} of the JVM would leave the cgroups' daemons
 * running. So its exit is logged as a {@code WARNING} and a new watchdog, with a new pipe, is
 * started at once, or {@value #RESTART_GAP_MILLIS} ms after the previous start if that was more
 * recent (something that kills every new watchdog must not make this a busy loop). A restart that
 * fails is logged like a first start that fails; the next {@code dieWithParent()} spawn with a
 * cgroup tries again.
 *
 * <p>Hazard: the pipe's write end is close-on-exec and Forkless passes children nothing else, but a
 * native library that forks without exec would hold a copy and delay the watchdog until that fork
 * exits.
 */
final class DieWithJvm {
    private static final Map<ExitState, NativeProcess> LIVE = new ConcurrentHashMap<>();
    private static final AtomicBoolean HOOKED = new AtomicBoolean();
    private static final Object WATCHDOG_LOCK = new Object();
    private static Child watchdog;        // guarded by WATCHDOG_LOCK; closed once it has exited
    private static OwnedFd watchdogPipe;  // guarded by WATCHDOG_LOCK; the write end, closed with it
    private static long watchdogStarted;  // guarded by WATCHDOG_LOCK; System.nanoTime() of the start
    private static boolean restartPending; // guarded by WATCHDOG_LOCK
    /** The least time between two starts of the watchdog. */
    static final long RESTART_GAP_MILLIS = 1000;
    private static final System.Logger LOG = System.getLogger("dev.forkless");

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
            if (watchdog == null && !restartPending) {
                startWatchdog();
            }
        }
    }

    /** Starts a watchdog, with WATCHDOG_LOCK held and none running. */
    private static void startWatchdog() {
        Optional<Path> dir = Cgroups.dieDirectory();
        if (dir.isEmpty()) {
            return;
        }
        OwnedFd.Pipe pipe = null;
        Child started;
        try {
            pipe = OwnedFd.pipe();
            started = Command.of("/bin/sh", "-c", WATCHDOG_SCRIPT, dir.get().toString())
                    .stdin(Stdio.fd(pipe.reader())).stdout(Stdio.nul()).stderr(Stdio.nul())
                    .newSession().onClose(CloseAction.LEAVE_RUNNING).spawn();
            pipe.reader().close();
        } catch (IOException | RuntimeException e) {
            if (pipe != null) {
                pipe.close();
            }
            LOG.log(System.Logger.Level.WARNING,
                    "cannot start the watchdog that kills dieWithParent() cgroups when this JVM dies;"
                            + " a SIGKILL of the JVM will kill such children only, not their trees", e);
            return;
        }
        watchdog = started;
        watchdogPipe = pipe.writer();
        watchdogStarted = System.nanoTime();
        // Off the reactor thread (Callbacks.EXECUTOR): a restart spawns.
        started.onExit().whenComplete((status, lost) -> watchdogEnded(started, status, lost));
    }

    /** The watchdog has exited (or cannot be waited for any more): close it, start another. */
    private static void watchdogEnded(Child ended, ExitStatus status, Throwable lost) {
        long delayNanos;
        OwnedFd pipe;
        synchronized (WATCHDOG_LOCK) {
            if (watchdog != ended) {
                return;
            }
            watchdog = null;
            pipe = watchdogPipe;
            watchdogPipe = null;
            delayNanos = Math.max(0, watchdogStarted + RESTART_GAP_MILLIS * 1_000_000 - System.nanoTime());
            restartPending = true;
        }
        try {
            long pid = ended.pid();
            pipe.close();
            ended.close();
            LOG.log(System.Logger.Level.WARNING, "the watchdog that kills dieWithParent() cgroups when this JVM"
                    + " dies (pid " + pid + ") has ended: " + (lost != null ? lost : status)
                    + "; starting a new one" + (delayNanos > 0 ? " in " + delayNanos / 1_000_000 + " ms" : ""));
        } finally {
            if (delayNanos == 0) {
                restartWatchdog();
            } else {
                try {
                    Reactor.get().schedule(delayNanos, () -> Callbacks.EXECUTOR.execute(DieWithJvm::restartWatchdog));
                } catch (Native.ErrnoException | RuntimeException e) {
                    restartWatchdog(); // cannot happen: the reactor runs (it reported the exit)
                }
            }
        }
    }

    private static void restartWatchdog() {
        synchronized (WATCHDOG_LOCK) {
            restartPending = false;
            if (watchdog == null) {
                startWatchdog();
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
