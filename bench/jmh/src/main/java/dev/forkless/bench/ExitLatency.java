package dev.forkless.bench;

import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.ExitStatus;
import dev.forkless.Forkless;
import dev.forkless.Stdio;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Exit-notification latency: from the moment a child exits to the moment a dependent of its
 * {@code onExit()} future runs in this JVM. Not a JMH benchmark: the interval starts in another
 * process, so no JMH mode can time it. The child, {@code bench/c/build/exit_stamp}, reads
 * {@code CLOCK_MONOTONIC}, writes it to its stdout (a file here) and calls {@code _exit(0)}; the
 * dependent takes {@link System#nanoTime()}, which on Linux reads the same clock. The difference
 * is the latency (it includes the kernel's teardown of the exiting process, the same for everyone).
 *
 * <p>Variants, all in this JVM, interleaved in rounds (the first variant rotates each round) so
 * drift in the machine's load hits all of them alike:
 * <ul>
 *   <li>{@code forklessAsync}: {@code child.onExit().thenRun(...)} — the future is completed
 *       on Forkless's default executor (one hop off the reactor thread: the common pool, or with
 *       a common-pool parallelism of 1 its own cached {@code forkless-callback-N} threads);</li>
 *   <li>{@code forklessDirect}: {@code child.onExit(Runnable::run).thenRun(...)} — completed on
 *       the reactor thread itself;</li>
 *   <li>{@code processBuilder}: {@code process.onExit().thenRun(...)} — the JDK's per-child
 *       "process reaper" thread returns from waitpid, then a hop to CompletableFuture's default
 *       async executor (the common pool, or a new thread per task when its parallelism is 1).</li>
 * </ul>
 * The reactor backend is this JVM's: {@code -Dforkless.reactor=epoll|io_uring}. Children run one
 * at a time. Each sleeps {@code --child-delay-us} before it stamps and exits, so that the dependent
 * is attached and every thread involved is idle when the exit comes; after each callback the harness waits {@code --pause-us} so the previous child is
 * fully settled (and the watching threads are idle again, as they would be between real exits).
 * A sample whose callback ran in the registering thread (the child exited before the dependent
 * was attached) is dropped and counted.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED [-Dforkless.reactor=io_uring] \
 *     -cp bench/jmh/target/benchmarks.jar dev.forkless.bench.ExitLatency \
 *     [--stamp bench/c/build/exit_stamp] [--samples 2000] [--warmup 200] [--round 50] \
 *     [--pause-us 2000] [--child-delay-us 1000] [--dir /dev/shm] [--json out.json]</pre>
 * With {@code --backend-only} it prints {@code Forkless.reactorBackend()} and exits.
 */
public final class ExitLatency {
    private static final String[] VARIANTS = {"forklessAsync", "forklessDirect", "processBuilder"};

    private final Semaphore done = new Semaphore(0);
    private volatile long callbackNanos;
    private volatile Thread callbackThread;
    private final String stamp;
    private final String childDelayUs;
    private final Path dir;
    private final Map<String, Map<String, Integer>> threadNames = new LinkedHashMap<>();
    private final Map<String, Integer> dropped = new LinkedHashMap<>();

    private ExitLatency(String stamp, long childDelayUs, Path dir) {
        this.stamp = stamp;
        this.childDelayUs = Long.toString(childDelayUs);
        this.dir = dir;
        for (String v : VARIANTS) {
            threadNames.put(v, new TreeMap<>());
            dropped.put(v, 0);
        }
    }

    public static void main(String[] args) throws Exception {
        String stamp = "bench/c/build/exit_stamp";
        int samples = 2000;
        int warmup = 200;
        int round = 50;
        long pauseUs = 2000;
        long childDelayUs = 1000;
        Path dir = Files.isWritable(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        String json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--stamp": stamp = args[++i]; break;
                case "--samples": samples = Integer.parseInt(args[++i]); break;
                case "--warmup": warmup = Integer.parseInt(args[++i]); break;
                case "--round": round = Integer.parseInt(args[++i]); break;
                case "--pause-us": pauseUs = Long.parseLong(args[++i]); break;
                case "--child-delay-us": childDelayUs = Long.parseLong(args[++i]); break;
                case "--dir": dir = Path.of(args[++i]); break;
                case "--json": json = args[++i]; break;
                case "--backend-only": // for run-reactor.sh: which backend this JVM's settings give
                    System.out.println(Forkless.reactorBackend());
                    return;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (!Files.isExecutable(Path.of(stamp))) {
            throw new IllegalStateException(stamp + " is missing: make -C bench/c stamp");
        }
        stamp = Path.of(stamp).toAbsolutePath().toString();
        ExitLatency h = new ExitLatency(stamp, childDelayUs, dir);

        // Warm-up: the same rounds, not recorded (JIT, class loading, the reactor and pools started).
        h.rounds(warmup, round, pauseUs, null);
        for (String v : VARIANTS) {
            h.threadNames.get(v).clear();
            h.dropped.put(v, 0);
        }
        Map<String, long[]> res = new LinkedHashMap<>();
        for (String v : VARIANTS) {
            res.put(v, new long[samples]);
        }
        long t0 = System.nanoTime();
        h.rounds(samples, round, pauseUs, res);
        double secs = (System.nanoTime() - t0) / 1e9;
        for (String v : VARIANTS) {
            Files.deleteIfExists(h.stampFile(v));
        }
        h.report(res, samples, warmup, round, pauseUs, childDelayUs, secs, json);
    }

    /** Runs {@code n} samples of every variant in rounds of {@code round}; stores them if out != null. */
    private void rounds(int n, int round, long pauseUs, Map<String, long[]> out) throws Exception {
        int r = 0;
        for (int base = 0; base < n; base += round, r++) {
            int end = Math.min(n, base + round);
            for (int k = 0; k < VARIANTS.length; k++) {
                String v = VARIANTS[(k + r) % VARIANTS.length];
                for (int i = base; i < end; ) {
                    long ns = sample(v);
                    LockSupport.parkNanos(pauseUs * 1000);
                    if (ns == Long.MIN_VALUE) {
                        dropped.merge(v, 1, Integer::sum);
                        continue; // measure this slot again
                    }
                    if (out != null) {
                        out.get(v)[i] = ns;
                    }
                    i++;
                }
            }
        }
    }

    private Path stampFile(String variant) {
        return dir.resolve("forkless-exit-stamp-" + ProcessHandle.current().pid() + "-" + variant);
    }

    /** One child: returns exit-to-callback nanoseconds, or Long.MIN_VALUE if the sample is void. */
    private long sample(String variant) throws Exception {
        Path file = stampFile(variant);
        Runnable cb = () -> {
            long t = System.nanoTime();
            callbackNanos = t;
            callbackThread = Thread.currentThread();
            done.release();
        };
        callbackThread = null;
        Thread me = Thread.currentThread();
        switch (variant) {
            case "forklessAsync":
            case "forklessDirect": {
                Command cmd = Command.of(stamp, childDelayUs).stdin(Stdio.nul()).stdout(Stdio.file(file)).stderr(Stdio.nul());
                try (Child c = cmd.spawn()) {
                    if (variant.equals("forklessAsync")) {
                        c.onExit().thenRun(cb);
                    } else {
                        c.onExit(Runnable::run).thenRun(cb);
                    }
                    await(variant);
                    ExitStatus st = c.waitFor();
                    if (!st.success()) {
                        throw new IllegalStateException(variant + ": exit_stamp failed: " + st);
                    }
                }
                break;
            }
            case "processBuilder": {
                Process p = new ProcessBuilder(stamp, childDelayUs)
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectOutput(ProcessBuilder.Redirect.to(file.toFile()))
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
                p.onExit().thenRun(cb);
                await(variant);
                int code = p.waitFor();
                if (code != 0) {
                    throw new IllegalStateException(variant + ": exit_stamp failed: exit " + code);
                }
                break;
            }
            default:
                throw new AssertionError(variant);
        }
        Thread t = callbackThread;
        if (t == me) {
            return Long.MIN_VALUE;
        }
        threadNames.get(variant).merge(Stats.family(t.getName()), 1, Integer::sum);
        String s = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII).trim();
        long exitedAt = Long.parseLong(s);
        return callbackNanos - exitedAt;
    }

    private void await(String variant) throws InterruptedException {
        if (!done.tryAcquire(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException(variant + ": no exit callback within 10 s");
        }
    }

    private void report(Map<String, long[]> res, int samples, int warmup, int round, long pauseUs,
                        long childDelayUs, double secs, String json) throws IOException {
        String backend = Forkless.reactorBackend();
        StringBuilder o = new StringBuilder();
        o.append(String.format("ExitLatency: child's own CLOCK_MONOTONIC stamp just before _exit(0) -> "
                + "System.nanoTime() in a dependent of onExit()%n"));
        o.append(String.format("Plain harness, not JMH: the interval spans two processes. %s %s, reactor %s, "
                        + "common pool parallelism %d, %d samples per variant after %d warm-up, rounds of %d, "
                        + "child sleeps %d µs before its stamp, %d µs pause, %.0f s%n",
                System.getProperty("java.vm.name"), System.getProperty("java.version"), backend,
                ForkJoinPool.getCommonPoolParallelism(),
                samples, warmup, round, childDelayUs, pauseUs, secs));
        o.append(String.format("%-16s %7s %9s %9s %9s %9s %9s  %-17s %s%n", "variant", "n", "p50 µs",
                "p10", "p90", "p99", "max", "p50 95% interval", "callback thread (samples), dropped"));
        Map<String, double[]> blocks = new LinkedHashMap<>();
        for (String v : VARIANTS) {
            long[] s = res.get(v).clone();
            blocks.put(v, Stats.blockMedians(res.get(v), round));
            Arrays.sort(s);
            double[] ci = Stats.bootMedian(blocks.get(v));
            o.append(String.format("%-16s %7d %9.1f %9.1f %9.1f %9.1f %9.1f  %7.1f–%-9.1f %s, %d%n", v, s.length,
                    Stats.quantile(s, 0.5) / 1e3, Stats.quantile(s, 0.1) / 1e3, Stats.quantile(s, 0.9) / 1e3,
                    Stats.quantile(s, 0.99) / 1e3, s[s.length - 1] / 1e3, ci[0] / 1e3, ci[1] / 1e3,
                    threadNames.get(v), dropped.get(v)));
        }
        List<String[]> ratios = new ArrayList<>();
        ratios.add(new String[] {"processBuilder", "forklessAsync"});
        ratios.add(new String[] {"processBuilder", "forklessDirect"});
        ratios.add(new String[] {"forklessAsync", "forklessDirect"});
        for (String[] r : ratios) {
            long[] a = res.get(r[0]).clone();
            long[] b = res.get(r[1]).clone();
            Arrays.sort(a);
            Arrays.sort(b);
            double[] ci = Stats.bootRatioPaired(blocks.get(r[0]), blocks.get(r[1]));
            o.append(String.format("ratio of medians %s / %s: %.2f× (95%% interval %.2f–%.2f×, paired rounds)%n",
                    r[0], r[1], Stats.quantile(a, 0.5) / Stats.quantile(b, 0.5), ci[0], ci[1]));
        }
        System.out.print(o);
        if (json == null) {
            return;
        }
        try (PrintWriter w = Stats.jsonWriter(json)) {
            w.printf("{\"harness\":\"ExitLatency\",\"unit\":\"ns\",\"backend\":%s,\"vm\":%s,\"java\":%s,"
                            + "\"common_pool_parallelism\":%d,\"samples\":%d,\"warmup\":%d,\"round\":%d,\"pause_us\":%d,"
                            + "\"child_delay_us\":%d,\"seconds\":%.1f,\"variants\":{",
                    Stats.jsonString(backend), Stats.jsonString(System.getProperty("java.vm.name")),
                    Stats.jsonString(System.getProperty("java.version")), ForkJoinPool.getCommonPoolParallelism(),
                    samples, warmup, round, pauseUs, childDelayUs, secs);
            String sep = "";
            for (String v : VARIANTS) {
                StringBuilder ns = new StringBuilder("[");
                long[] arr = res.get(v);
                for (int i = 0; i < arr.length; i++) {
                    ns.append(i == 0 ? "" : ",").append(arr[i]);
                }
                ns.append(']');
                w.printf("%s%s:{\"dropped\":%d,\"callback_threads\":%s,\"ns\":%s}", sep, Stats.jsonString(v),
                        dropped.get(v), Stats.jsonObject(threadNames.get(v)), ns);
                sep = ",";
            }
            w.println("}}");
        }
    }
}
