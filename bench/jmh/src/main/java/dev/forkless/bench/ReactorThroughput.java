package dev.forkless.bench;

import com.zaxxer.nuprocess.NuAbstractProcessHandler;
import com.zaxxer.nuprocess.NuProcess;
import com.zaxxer.nuprocess.NuProcessBuilder;
import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.Forkless;
import dev.forkless.Stdio;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecuteResultHandler;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;
import org.zeroturnaround.exec.listener.ProcessListener;

/**
 * Throughput of spawn + exit notification for many short children ({@code /bin/true}) with up to
 * {@code inFlight} running at once: Forkless (each reactor backend) against ProcessBuilder,
 * NuProcess 3.0.0, zt-exec 1.13.0 and commons-exec 1.6.0. One operation starts
 * {@value #N} children, one after another, each only once a permit of a {@code Semaphore} of
 * {@code inFlight} permits is free; the permit comes back in the library's own exit callback. The
 * operation ends when all {@value #N} have been seen to exit. Reported per child (children/s).
 *
 * <p>What each library does per child, configured as cheaply as it allows for a child whose
 * output nobody wants (stdout/stderr handling is not what is compared here):
 * <ul>
 *   <li>{@code forkless-epoll}, {@code forkless-io_uring}: stdin/stdout/stderr {@code /dev/null};
 *       {@code child.onExit().whenComplete(...)} (the default: completed off the reactor thread, on
 *       the common pool when its parallelism is 2 or more, else on Forkless's cached pool of
 *       {@code forkless-callback-N} threads); {@code close()} in the callback. The backend
 *       is set with the {@code forkless.reactor} system property in this fork before Forkless is
 *       first used, and checked with {@code Forkless.reactorBackend()}; plain {@code forkless}
 *       takes whatever the JVM was started with.</li>
 *   <li>{@code processBuilder}: {@code /dev/null} in, {@code Redirect.DISCARD} out and err
 *       (no pipes); {@code process.onExit().whenComplete(...)}. The JDK runs a "process reaper"
 *       thread per live child (a cached pool) blocked in waitpid, then hops to CompletableFuture's
 *       default async executor (the common pool, or a new thread per task when its parallelism is
 *       1, as on 2 cores).</li>
 *   <li>{@code nuprocess}: always three pipes (no way to redirect); the handler's default
 *       {@code onStdout}/{@code onStderr} drop what arrives; exit seen by its epoll thread(s)
 *       ({@code max(1, cores/2)} of them) when the pipes hang up, then {@code waitpid(WNOHANG)}.
 *       A child not yet reapable at that moment (its pipes close before its exit is complete) goes
 *       to a "dead pool" polled only when {@code epoll_wait} times out, every 250 ms by default
 *       ({@code com.zaxxer.nuprocess.deadPoolPollMs}, left at its default here): with few children
 *       in flight many exits are reported up to 250 ms late. The callback is
 *       {@code NuProcessHandler.onExit}. It spawns through the JDK's own
 *       {@code ProcessImpl.forkAndExec} (jspawnhelper), called over JNA.</li>
 *   <li>{@code ztexec}: a ProcessBuilder underneath with pipes (it offers no Redirect); stderr
 *       merged into stdout ({@code redirectErrorStream(true)}, one pipe fewer) and a stream handler
 *       that closes the pipes at once instead of the default pump threads; one
 *       "WaitForProcess" single-thread executor per child blocked in {@code waitFor()}, plus the
 *       JDK's reaper; the callback is {@code ProcessListener.afterFinish}. {@code start()} returns a
 *       {@code StartedProcess} whose {@code getFuture()} nobody needs to block on.</li>
 *   <li>{@code commonsexec}: {@code DefaultExecutor} (one per child: it is stateful) with a
 *       stream handler that closes the three pipes at once (its default pumps to System.out/err);
 *       {@code execute(cmd, handler)} starts a thread per child that launches through
 *       {@code Runtime.exec} (pipes) and blocks in {@code waitFor()}; the callback is a
 *       {@code DefaultExecuteResultHandler}'s {@code onProcessComplete}.</li>
 * </ul>
 * Defaults below are those of {@code bench/run-reactor.sh}, which repeats them on its command line.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
@Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Threads(1)
public class ReactorThroughput {
    static final int N = 256;
    private static final String TRUE = "/bin/true";
    private static final File DEV_NULL = new File("/dev/null");

    @Param({"1", "2", "8", "64"})
    public int inFlight;

    @Param({"forkless-epoll", "forkless-io_uring", "processBuilder", "nuprocess", "ztexec", "commonsexec"})
    public String library;

    private Semaphore permits;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private Launcher launcher;

    /** Starts one child; {@code done} must run exactly once, after the library reported its exit. */
    interface Launcher {
        void launch(Runnable done) throws Exception;
    }

    @Setup(Level.Trial)
    public void setup() throws Exception {
        permits = new Semaphore(inFlight);
        switch (library) {
            case "forkless":
                launcher = this::forkless;
                break;
            case "forkless-epoll":
            case "forkless-io_uring": {
                String want = library.substring("forkless-".length());
                String given = System.getProperty("forkless.reactor");
                if (given != null && !given.equals(want)) {
                    throw new IllegalStateException("-Dforkless.reactor=" + given + " but library=" + library);
                }
                System.setProperty("forkless.reactor", want);
                launcher = this::forkless;
                break;
            }
            case "processBuilder":
                launcher = this::processBuilder;
                break;
            case "nuprocess":
                launcher = this::nuprocess;
                break;
            case "ztexec":
                launcher = this::ztexec;
                break;
            case "commonsexec":
                launcher = this::commonsexec;
                break;
            default:
                throw new IllegalArgumentException("unknown library " + library);
        }
        // One child before the first iteration: starts the library's threads, and for Forkless
        // lets us check which reactor backend this fork really runs.
        runChildren(1);
        if (library.startsWith("forkless-")) {
            String want = library.substring("forkless-".length());
            String got = Forkless.reactorBackend();
            if (!want.equals(got)) {
                throw new IllegalStateException("asked for reactor " + want + ", running " + got);
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void spawnAndWatch() throws Exception {
        runChildren(N);
    }

    private void runChildren(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            permits.acquire();
            try {
                launcher.launch(permits::release);
            } catch (Throwable t) {
                permits.release();
                throw t;
            }
        }
        // All permits back = every child's exit was reported.
        if (!permits.tryAcquire(inFlight, 60, TimeUnit.SECONDS)) {
            throw new IllegalStateException(library + ": exits not reported within 60 s");
        }
        permits.release(inFlight);
        Throwable t = failure.get();
        if (t != null) {
            throw new IllegalStateException(library + ": a child failed", t);
        }
    }

    private void fail(Throwable t) {
        failure.compareAndSet(null, t);
    }

    // ---- the libraries ------------------------------------------------------------------------

    private void forkless(Runnable done) throws Exception {
        Child c = Command.of(TRUE).stdin(Stdio.nul()).stdout(Stdio.nul()).stderr(Stdio.nul()).spawn();
        c.onExit().whenComplete((st, ex) -> {
            try {
                c.close();
                if (ex != null) {
                    fail(ex);
                } else if (!st.success()) {
                    fail(new IllegalStateException("/bin/true: " + st));
                }
            } finally {
                done.run();
            }
        });
    }

    private void processBuilder(Runnable done) throws Exception {
        Process p = new ProcessBuilder(TRUE)
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        p.onExit().whenComplete((proc, ex) -> {
            try {
                if (ex != null) {
                    fail(ex);
                } else if (proc.exitValue() != 0) {
                    fail(new IllegalStateException("/bin/true: exit " + proc.exitValue()));
                }
            } finally {
                done.run();
            }
        });
    }

    private void nuprocess(Runnable done) {
        NuProcessBuilder b = new NuProcessBuilder(List.of(TRUE));
        b.setProcessListener(new NuAbstractProcessHandler() {
            @Override
            public void onExit(int code) {
                try {
                    if (code != 0) {
                        fail(new IllegalStateException("/bin/true: exit " + code));
                    }
                } finally {
                    done.run();
                }
            }
        });
        NuProcess p = b.start(); // on a failed start NuProcess calls onExit(Integer.MIN_VALUE) itself
        if (p == null) {
            fail(new IllegalStateException("NuProcessBuilder.start() returned null"));
        }
    }

    private void ztexec(Runnable done) throws IOException {
        new ProcessExecutor()
                .command(TRUE)
                .redirectErrorStream(true)
                .streams(new ClosingStreams())
                .addListener(new ProcessListener() {
                    @Override
                    public void afterFinish(Process process, ProcessResult result) {
                        try {
                            if (result.getExitValue() != 0) {
                                fail(new IllegalStateException("/bin/true: exit " + result.getExitValue()));
                            }
                        } finally {
                            done.run();
                        }
                    }
                })
                .start()
                .getFuture();
    }

    private void commonsexec(Runnable done) throws IOException {
        DefaultExecutor ex = DefaultExecutor.builder().setExecuteStreamHandler(new ClosingStreams()).get();
        ex.execute(new CommandLine(TRUE), new DefaultExecuteResultHandler() {
            @Override
            public void onProcessComplete(int exitValue) {
                super.onProcessComplete(exitValue);
                done.run();
            }

            @Override
            public void onProcessFailed(ExecuteException e) {
                super.onProcessFailed(e);
                fail(e);
                done.run();
            }
        });
    }

    /**
     * zt-exec and commons-exec: no pump threads; the child's pipes are closed on our side as soon
     * as it starts. Their two stream-handler interfaces have the same methods.
     */
    static final class ClosingStreams implements org.zeroturnaround.exec.stream.ExecuteStreamHandler,
            org.apache.commons.exec.ExecuteStreamHandler {
        @Override
        public void setProcessInputStream(OutputStream os) throws IOException {
            os.close();
        }

        @Override
        public void setProcessErrorStream(InputStream is) throws IOException {
            is.close();
        }

        @Override
        public void setProcessOutputStream(InputStream is) throws IOException {
            is.close();
        }

        @Override
        public void start() {}

        @Override
        public void stop() {}
    }
}
