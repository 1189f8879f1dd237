package dev.forkless.bench;

import com.zaxxer.nuprocess.NuAbstractProcessHandler;
import com.zaxxer.nuprocess.NuProcess;
import com.zaxxer.nuprocess.NuProcessBuilder;
import dev.forkless.Command;
import dev.forkless.Forkless;
import dev.forkless.Output;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * N children at once, each writing BYTES to stdout ({@code head -c BYTES /dev/zero}), every byte
 * captured in the JVM: wall time from the first start until every output is in hand and every
 * child has exited, and the peak number of live threads of the JVM meanwhile. Not JMH: the thread
 * count is a property of the whole JVM, and it must be sampled while the operation runs.
 *
 * <ul>
 *   <li>{@code forkless}: N x {@code Command.of("head", "-c", BYTES, "/dev/zero").outputAsync()}
 *       (defaults: stdin {@code /dev/null}, stdout and stderr piped, everything kept per
 *       stream), then {@code join()} every future. The reactor thread reads every pipe.</li>
 *   <li>{@code processBuilder}: the usual way: N x {@code new ProcessBuilder(...).start()} (JDK
 *       defaults, three pipes), each followed by a new platform thread that runs
 *       {@code getInputStream().readAllBytes()}; then join every thread and {@code waitFor()}
 *       every process. Besides the N reader threads the JDK runs its own "process reaper" thread
 *       per live child (a cached pool; idle ones linger 60 s).</li>
 *   <li>{@code nuprocess}: NuProcess 3.0.0, {@code NuProcessBuilder.start()} per child with a
 *       handler whose {@code onStdout(ByteBuffer, closed)} copies what arrives into a
 *       {@code ByteArrayOutputStream}; a child is done when its stdout was closed and
 *       {@code onExit} was called. NuProcess reads on its own epoll thread(s) ({@code max(1,
 *       cores/2)}).</li>
 * </ul>
 * With {@code --delay-ms D} every child is {@code sh -c 'sleep D/1000; exec head -c BYTES
 * /dev/zero'} instead: each waits before writing, so all N are alive at once whatever the
 * library's spawn rate (a bare {@code head} writes its 1 MiB in about a millisecond, so a library
 * that starts children slowly never has many at once, and never needs a thread for each).
 *
 * <p>Each repetition: {@code System.gc()}, 300 ms settle, {@code ThreadMXBean.resetPeakThreadCount()},
 * then the run, while a sampler thread (counted too, the same for every library) reads the OS
 * thread count ({@code /proc/self/status}) every 2 ms and, whenever the JVM's live thread count
 * reaches a new high, the names of the live threads (grouped with digits as N). After the run,
 * {@code getPeakThreadCount()} is the peak of Java threads. The sampler also counts the children
 * not yet reaped ({@code /proc/self/task/TID/children} of the main thread, which starts every
 * child with all three libraries): how many of the N really ran at once. Warm-up repetitions are
 * reported but marked.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -Xms4g -Xmx4g -cp bench/jmh/target/benchmarks.jar \
 *     dev.forkless.bench.ConcurrentOutput --library forkless|processBuilder|nuprocess \
 *     [--children 500] [--bytes 1048576] [--delay-ms 0] [--warmup 1] [--reps 5] [--json out.json]</pre>
 */
public final class ConcurrentOutput {
    private ConcurrentOutput() {}

    interface Runner {
        /** Starts n children and returns once every output is collected and checked. */
        void run(int n, long bytes) throws Exception;
    }

    /** The child's command line: head, or head after a sleep in a shell (--delay-ms). */
    private static List<String> argv = List.of();

    private static String[] argv() {
        return argv.toArray(new String[0]);
    }

    public static void main(String[] args) throws Exception {
        String library = null;
        int n = 500;
        long bytes = 1 << 20;
        int warmup = 1;
        int reps = 5;
        int delayMs = 0;
        String json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--library": library = args[++i]; break;
                case "--children": n = Integer.parseInt(args[++i]); break;
                case "--bytes": bytes = Long.parseLong(args[++i]); break;
                case "--warmup": warmup = Integer.parseInt(args[++i]); break;
                case "--delay-ms": delayMs = Integer.parseInt(args[++i]); break;
                case "--reps": reps = Integer.parseInt(args[++i]); break;
                case "--json": json = args[++i]; break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        argv = delayMs > 0
                ? List.of("sh", "-c", String.format("sleep %.3f; exec head -c %d /dev/zero", delayMs / 1000.0, bytes))
                : List.of("head", "-c", Long.toString(bytes), "/dev/zero");
        Runner runner;
        if ("forkless".equals(library)) {
            runner = ConcurrentOutput::forkless;
        } else if ("processBuilder".equals(library)) {
            runner = ConcurrentOutput::processBuilder;
        } else if ("nuprocess".equals(library)) {
            runner = ConcurrentOutput::nuprocess;
        } else {
            throw new IllegalArgumentException("--library forkless|processBuilder|nuprocess");
        }

        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        // "/proc/<pid>/task/<tid>": the children this thread starts are listed under it.
        Path childrenFile = Files.readSymbolicLink(Path.of("/proc/thread-self")).resolve("children");
        if (!childrenFile.isAbsolute()) {
            childrenFile = Path.of("/proc").resolve(childrenFile);
        }
        int baseline = mx.getThreadCount();
        long baselineOs = Stats.procStatus("Threads");
        List<String> repJson = new ArrayList<>();
        System.out.print(String.format("ConcurrentOutput: %s, %d children x %s, %s %s%s; "
                        + "fresh JVM: %d Java threads, %d OS threads%n",
                library, n, String.join(" ", argv), System.getProperty("java.vm.name"), System.getProperty("java.version"),
                library.equals("forkless") ? ", reactor " + Forkless.reactorBackend() : "", baseline, baselineOs));
        for (int r = 0; r < warmup + reps; r++) {
            boolean warm = r < warmup;
            Stats.settle();
            int before = mx.getThreadCount();
            long beforeOs = Stats.procStatus("Threads");
            Sampler s = new Sampler(mx, childrenFile);
            s.start();
            mx.resetPeakThreadCount();
            long t0 = System.nanoTime();
            runner.run(n, bytes);
            long ns = System.nanoTime() - t0;
            int peak = mx.getPeakThreadCount();
            s.finish();
            String line = String.format("  %s %d: %8.1f ms, Java threads before %4d, peak %4d; OS threads before %4d, "
                            + "peak %4d; children alive at once, peak %3d; at the Java peak: %s",
                    warm ? "warm-up" : "rep    ", warm ? r + 1 : r - warmup + 1, ns / 1e6, before, peak, beforeOs,
                    s.maxOs, s.maxChildren, s.families);
            System.out.println(line);
            repJson.add(String.format("{\"warmup\":%s,\"ms\":%.3f,\"java_threads_before\":%d,\"java_threads_peak\":%d,"
                            + "\"os_threads_before\":%d,\"os_threads_peak\":%d,\"children_peak\":%d,"
                            + "\"families_at_peak\":%s}",
                    warm, ns / 1e6, before, peak, beforeOs, s.maxOs, s.maxChildren, Stats.jsonObject(s.families)));
        }
        if (json != null) {
            try (PrintWriter w = Stats.jsonWriter(json)) {
                w.printf("{\"harness\":\"ConcurrentOutput\",\"library\":%s,\"backend\":%s,\"children\":%d,\"bytes\":%d,"
                                + "\"delay_ms\":%d,\"argv\":%s,\"vm\":%s,\"java\":%s,\"jvm_args\":%s,\"baseline_java_threads\":%d,"
                                + "\"baseline_os_threads\":%d,\"reps\":[%s]}%n",
                        Stats.jsonString(library),
                        Stats.jsonString(library.equals("forkless") ? Forkless.reactorBackend() : "-"), n, bytes,
                        delayMs, Stats.jsonString(String.join(" ", argv)),
                        Stats.jsonString(System.getProperty("java.vm.name")),
                        Stats.jsonString(System.getProperty("java.version")),
                        Stats.jsonString(String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments())),
                        baseline, baselineOs, String.join(",", repJson));
            }
        }
    }

    /** Samples the OS thread count, and the thread names whenever the Java count hits a new high. */
    static final class Sampler extends Thread {
        private final ThreadMXBean mx;
        private final Path childrenFile;
        private volatile boolean stop;
        long maxOs;
        int maxChildren;
        int maxJava;
        Map<String, Integer> families = new TreeMap<>();

        Sampler(ThreadMXBean mx, Path childrenFile) {
            super("bench-sampler");
            setDaemon(true);
            this.mx = mx;
            this.childrenFile = childrenFile;
        }

        private int children() {
            try {
                String s = Files.readString(childrenFile, StandardCharsets.US_ASCII).trim();
                return s.isEmpty() ? 0 : s.split(" +").length;
            } catch (IOException e) {
                return -1;
            }
        }

        @Override
        public void run() {
            while (!stop) {
                long os = Stats.procStatus("Threads");
                maxOs = Math.max(maxOs, os);
                maxChildren = Math.max(maxChildren, children());
                int java = mx.getThreadCount();
                if (java > maxJava) {
                    maxJava = java;
                    Thread[] all = new Thread[java + 64];
                    ThreadGroup root = Thread.currentThread().getThreadGroup();
                    while (root.getParent() != null) {
                        root = root.getParent();
                    }
                    int k = root.enumerate(all, true);
                    families = Stats.families(Arrays.asList(all).subList(0, k));
                }
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void finish() throws InterruptedException {
            stop = true;
            join();
        }
    }

    // ---- the libraries ------------------------------------------------------------------------

    private static void forkless(int n, long bytes) throws Exception {
        List<CompletableFuture<Output>> fs = new ArrayList<>(n);
        String[] cmd = argv();
        for (int i = 0; i < n; i++) {
            fs.add(Command.of(cmd[0], java.util.Arrays.copyOfRange(cmd, 1, cmd.length)).outputAsync());
        }
        for (CompletableFuture<Output> f : fs) {
            Output o = f.join();
            if (!o.status().success() || o.stdout().length != bytes) {
                throw new IllegalStateException("forkless: " + o + ", " + o.stdout().length + " bytes");
            }
        }
    }

    private static void processBuilder(int n, long bytes) throws Exception {
        List<Process> ps = new ArrayList<>(n);
        List<Thread> readers = new ArrayList<>(n);
        byte[][] results = new byte[n][];
        Throwable[] failure = new Throwable[1];
        for (int i = 0; i < n; i++) {
            Process p = new ProcessBuilder(argv).start();
            ps.add(p);
            int k = i;
            Thread t = new Thread(() -> {
                try {
                    results[k] = p.getInputStream().readAllBytes();
                } catch (IOException e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            }, "reader-" + i);
            t.start();
            readers.add(t);
        }
        for (Thread t : readers) {
            t.join();
        }
        for (int i = 0; i < n; i++) {
            int code = ps.get(i).waitFor();
            if (code != 0 || results[i] == null || results[i].length != bytes) {
                throw new IllegalStateException("processBuilder: exit " + code + ", "
                        + (results[i] == null ? "no" : results[i].length) + " bytes", failure[0]);
            }
        }
    }

    private static void nuprocess(int n, long bytes) throws Exception {
        CountDownLatch done = new CountDownLatch(n);
        List<Collector> cs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Collector c = new Collector(done);
            cs.add(c);
            NuProcessBuilder b = new NuProcessBuilder(argv);
            b.setProcessListener(c);
            NuProcess p = b.start();
            if (p == null) {
                throw new IllegalStateException("NuProcessBuilder.start() returned null");
            }
        }
        if (!done.await(300, TimeUnit.SECONDS)) {
            throw new IllegalStateException("nuprocess: not done within 300 s");
        }
        for (Collector c : cs) {
            if (c.code != 0 || c.out.size() != bytes) {
                throw new IllegalStateException("nuprocess: exit " + c.code + ", " + c.out.size() + " bytes");
            }
        }
    }

    /** NuProcess: stdout into a ByteArrayOutputStream; done once stdout is closed and onExit ran. */
    static final class Collector extends NuAbstractProcessHandler {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final AtomicInteger parts = new AtomicInteger();
        final CountDownLatch done;
        volatile int code = Integer.MIN_VALUE;
        private byte[] chunk = new byte[0];

        Collector(CountDownLatch done) {
            this.done = done;
        }

        @Override
        public void onStdout(ByteBuffer buffer, boolean closed) {
            int r = buffer.remaining();
            if (r > 0) {
                if (chunk.length < r) {
                    chunk = new byte[r];
                }
                buffer.get(chunk, 0, r);
                out.write(chunk, 0, r);
            }
            if (closed && parts.incrementAndGet() == 2) {
                done.countDown();
            }
        }

        @Override
        public void onExit(int exitCode) {
            code = exitCode;
            if (parts.incrementAndGet() == 2) {
                done.countDown();
            }
        }
    }
}
