package dev.forkless;

import dev.forkless.internal.ExitState;
import dev.forkless.internal.NativeProcess;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The normal-exit half of {@link Command#dieWithParent()}: a shutdown hook that kills every such
 * child still running, with its process group when it leads one. (The kernel's parent-death
 * signal covers the child alone, and also a JVM killed with {@code SIGKILL}, when no hook runs.)
 * The hook is installed with the first such child; a child leaves the registry when it exits.
 */
final class DieWithJvm {
    private static final Map<ExitState, NativeProcess> LIVE = new ConcurrentHashMap<>();
    private static final AtomicBoolean HOOKED = new AtomicBoolean();

    private DieWithJvm() {
    }

    static void register(NativeProcess process, ExitState state) {
        if (HOOKED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(DieWithJvm::killAll, "forkless-die-with-jvm"));
        }
        LIVE.put(state, process);
        state.future().whenComplete((exit, lost) -> LIVE.remove(state));
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
