package dev.forkless;

import dev.forkless.internal.ExitState;
import dev.forkless.internal.NativeProcess;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@link Command#forwardSignals(Signal...)}: when this JVM receives {@code SIGINT},
 * {@code SIGTERM} or {@code SIGHUP}, the same signal goes to every running child that asked for
 * it, before the JVM's own handling (which shuts the JVM down) goes on; the shutdown then waits up
 * to {@value #GRACE_SECONDS} s for those children to exit and kills the ones still running.
 *
 * <p>Handlers are installed with {@code sun.misc.Signal} (module {@code jdk.unsupported}), once per
 * signal, when the first child asks for it. Each handler chains to the one it replaced (the JVM's:
 * start the shutdown); if the JVM runs with {@code -Xrs} (no handler of its own), the default
 * action is restored and the signal raised again after forwarding.
 */
final class SignalForwarding {
    static final int GRACE_SECONDS = 5;
    static final Set<Signal> FORWARDABLE = EnumSet.of(Signal.INT, Signal.TERM, Signal.HUP);
    private static final Map<ExitState, Entry> LIVE = new ConcurrentHashMap<>();
    private static final Set<Signal> INSTALLED = ConcurrentHashMap.newKeySet();
    private static volatile boolean forwarded;
    private static final Object HOOK_LOCK = new Object();
    private static boolean hooked;

    private record Entry(NativeProcess process, ExitState state, Set<Signal> signals) {
    }

    private SignalForwarding() {
    }

    static void register(NativeProcess process, ExitState state, Set<Signal> signals) {
        for (Signal s : signals) {
            if (INSTALLED.add(s)) {
                install(s);
            }
        }
        synchronized (HOOK_LOCK) {
            if (!hooked) {
                hooked = true;
                Runtime.getRuntime().addShutdownHook(new Thread(SignalForwarding::awaitForwarded,
                        "forkless-signal-forwarding"));
            }
        }
        LIVE.put(state, new Entry(process, state, signals));
        state.future().whenComplete((exit, lost) -> LIVE.remove(state));
    }

    private static void install(Signal s) {
        sun.misc.Signal sig = new sun.misc.Signal(s.name());
        sun.misc.SignalHandler[] previous = new sun.misc.SignalHandler[1];
        previous[0] = sun.misc.Signal.handle(sig, received -> {
            forward(s);
            sun.misc.SignalHandler p = previous[0];
            if (p == sun.misc.SignalHandler.SIG_IGN) {
                return;
            }
            if (p == null || p == sun.misc.SignalHandler.SIG_DFL) {
                sun.misc.Signal.handle(sig, sun.misc.SignalHandler.SIG_DFL);
                sun.misc.Signal.raise(sig);
            } else {
                p.handle(received);
            }
        });
    }

    private static void forward(Signal s) {
        for (Entry e : LIVE.values()) {
            if (e.signals().contains(s)) {
                try {
                    e.process().signal(s.number());
                    forwarded = true;
                } catch (RuntimeException released) {
                    // Closed with LEAVE_RUNNING: no handle to signal through any more.
                }
            }
        }
    }

    /** The shutdown hook: after a forwarded signal, give those children their grace, then kill. */
    private static void awaitForwarded() {
        if (!forwarded) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GRACE_SECONDS);
        for (Entry e : LIVE.values()) {
            long left = deadline - System.nanoTime();
            try {
                e.state().future().get(Math.max(0, left), TimeUnit.NANOSECONDS);
            } catch (Exception stillRunning) {
                try {
                    e.process().signal(Signal.KILL.number());
                } catch (RuntimeException released) {
                    // gone already
                }
            }
        }
    }
}
