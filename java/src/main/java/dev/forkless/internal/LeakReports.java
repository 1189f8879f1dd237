package dev.forkless.internal;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.function.Consumer;

/**
 * Leak detection: reports a {@code Child} that became unreachable without {@code close()} and
 * without anyone having observed its exit.
 *
 * <p>Off by default: recording where each child was spawned costs a stack walk per spawn. On with
 * the system property {@code forkless.leakDetection=true}, read once, when this class is
 * initialized (the first spawn). Reports go to the {@link System.Logger} {@code "dev.forkless"} at
 * {@code WARNING}.
 */
public final class LeakReports {
    private static final boolean ENABLED = Boolean.getBoolean("forkless.leakDetection");
    private static final System.Logger LOG = LazyLogger.FORKLESS;
    private static volatile Consumer<String> testSink;

    private LeakReports() {
    }

    /**
     * Whether spawns should record where they happen.
     *
     * @return true with {@code forkless.leakDetection=true}, or while a test sink is set
     */
    public static boolean enabled() {
        return ENABLED || testSink != null;
    }

    /**
     * For tests only: sends reports to {@code sink} instead of the logger, and turns detection on
     * for children spawned while it is set (whatever the system property says). Null restores the
     * default.
     *
     * @param sink receives each report's full text, or null
     */
    public static void setSinkForTests(Consumer<String> sink) {
        testSink = sink;
    }

    /**
     * Reports one leaked child. Called from the cleaner thread; never throws.
     *
     * @param state the child's state; {@link ExitState#createdAt()} must not be null
     */
    public static void report(ExitState state) {
        StringWriter trace = new StringWriter();
        try (PrintWriter w = new PrintWriter(trace)) {
            state.createdAt().printStackTrace(w);
        }
        String message = "Forkless child pid " + state.pid() + " ('" + state.program() + "', "
                + (state.future().isDone() ? "exited" : "still running")
                + ") became unreachable without close(), and nobody observed its exit"
                + " (waitFor, tryWait, isAlive, onExit). Its handle is released and the process is"
                + " reaped when it exits; close children with try-with-resources. Spawned at: "
                + trace;
        Consumer<String> sink = testSink;
        try {
            if (sink != null) {
                sink.accept(message);
            } else {
                LOG.log(System.Logger.Level.WARNING, message);
            }
        } catch (RuntimeException e) {
            // A broken logger must not break the reactor thread, which runs cleanup actions.
        }
    }
}
