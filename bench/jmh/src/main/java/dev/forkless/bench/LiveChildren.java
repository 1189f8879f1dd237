package dev.forkless.bench;

import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.ExitStatus;
import dev.forkless.Forkless;
import dev.forkless.Signal;
import dev.forkless.Stdio;
import java.io.File;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * What N live children cost the JVM that watches them: threads (Java's and the OS's), heap and
 * resident memory. Not JMH: one measurement per fresh JVM (a JVM that has already had 1,000
 * children has 1,000 idle reaper threads cached for a minute, and a grown heap), so
 * {@code bench/run-reactor.sh} starts this once per (library, repetition).
 *
 * <p>Four points, each after two {@code System.gc()} and a 300 ms settle:
 * <ol>
 *   <li>{@code fresh}: before anything is spawned;</li>
 *   <li>{@code warm}: after one {@code /bin/true} spawned and waited for with {@code waitFor()}
 *       (classes loaded, native library mapped; {@code waitFor()}, not {@code onExit()}, so no
 *       completion pool thread is started yet);</li>
 *   <li>{@code live}: with N {@code sleep 1000} children running, each with {@code onExit()}
 *       requested, as a caller that watches exits would;</li>
 *   <li>{@code after}: once all were killed ({@code SIGKILL}) and their exits seen.</li>
 * </ol>
 * Thread growth is {@code live - fresh} (everything the library started); heap and RSS per child
 * are {@code (live - warm) / N} (the one-time cost of loading the library is left out).
 * ProcessBuilder's children have stdin from /dev/null and stdout/stderr discarded, like
 * Forkless's: no pipes on either side. The JDK starts its "process reaper" thread for each child
 * in {@code start()}, whether {@code onExit()} is called or not.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED [-Dforkless.reactor=io_uring] \
 *     -cp bench/jmh/target/benchmarks.jar dev.forkless.bench.LiveChildren \
 *     --library forkless|processBuilder [--children 1000] [--json out.json]</pre>
 */
public final class LiveChildren {
    private LiveChildren() {}

    /** One measurement point. */
    static final class Point {
        final String name;
        final int javaThreads;
        final long osThreads;
        final long heapUsed;
        final long rssKiB;
        final Map<String, Integer> threadFamilies;

        Point(String name) throws InterruptedException {
            Stats.settle();
            this.name = name;
            this.javaThreads = ManagementFactory.getThreadMXBean().getThreadCount();
            this.osThreads = Stats.procStatus("Threads");
            this.heapUsed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            this.rssKiB = Stats.procStatus("VmRSS");
            this.threadFamilies = Stats.families(Thread.getAllStackTraces().keySet());
        }

        String json() {
            return String.format("{\"java_threads\":%d,\"os_threads\":%d,\"heap_used\":%d,\"rss_kib\":%d,"
                    + "\"thread_families\":%s}", javaThreads, osThreads, heapUsed, rssKiB,
                    Stats.jsonObject(threadFamilies));
        }

        String line() {
            return String.format("  %-6s java threads %5d, OS threads %5d, heap used %8.1f KiB, VmRSS %8d KiB",
                    name, javaThreads, osThreads, heapUsed / 1024.0, rssKiB);
        }
    }

    public static void main(String[] args) throws Exception {
        String library = null;
        int n = 1000;
        String json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--library": library = args[++i]; break;
                case "--children": n = Integer.parseInt(args[++i]); break;
                case "--json": json = args[++i]; break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (!"forkless".equals(library) && !"processBuilder".equals(library)) {
            throw new IllegalArgumentException("--library forkless|processBuilder");
        }
        boolean fl = library.equals("forkless");
        File devNull = new File("/dev/null");

        Point fresh = new Point("fresh");
        if (fl) {
            try (Child c = Command.of("/bin/true").stdin(Stdio.nul()).stdout(Stdio.nul()).stderr(Stdio.nul()).spawn()) {
                c.waitFor();
            }
        } else {
            new ProcessBuilder("/bin/true").redirectInput(ProcessBuilder.Redirect.from(devNull))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor();
        }
        Point warm = new Point("warm");

        List<Child> children = new ArrayList<>(n);
        List<Process> processes = new ArrayList<>(n);
        List<CompletableFuture<?>> exits = new ArrayList<>(n);
        Point live;
        long spawnNanos;
        try {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if (fl) {
                    Child c = Command.of("/bin/sleep", "1000").stdin(Stdio.nul()).stdout(Stdio.nul())
                            .stderr(Stdio.nul()).spawn();
                    children.add(c);
                    exits.add(c.onExit());
                } else {
                    Process p = new ProcessBuilder("/bin/sleep", "1000").redirectInput(ProcessBuilder.Redirect.from(devNull))
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                            .start();
                    processes.add(p);
                    exits.add(p.onExit());
                }
            }
            spawnNanos = System.nanoTime() - t0;
            live = new Point("live");
            for (CompletableFuture<?> f : exits) {
                if (f.isDone()) {
                    throw new IllegalStateException("a sleep 1000 child exited early: " + f.join());
                }
            }
        } finally {
            // Kill everything, even on failure: 1,000 sleeps must not outlive the harness.
            for (Child c : children) {
                c.kill(Signal.KILL);
            }
            for (Process p : processes) {
                p.destroyForcibly();
            }
        }
        for (CompletableFuture<?> f : exits) {
            Object r = f.join();
            if (r instanceof ExitStatus && ((ExitStatus) r).signal().orElse(null) != Signal.KILL) {
                throw new IllegalStateException("unexpected exit " + r);
            }
        }
        for (Child c : children) {
            c.close();
        }
        Point after = new Point("after");

        String backend = fl ? Forkless.reactorBackend() : "-";
        System.out.printf("LiveChildren: %s%s, %d children (sleep 1000), %s %s; spawning them took %.0f ms%n",
                library, fl ? " (reactor " + backend + ")" : "", n, System.getProperty("java.vm.name"),
                System.getProperty("java.version"), spawnNanos / 1e6);
        for (Point p : new Point[] {fresh, warm, live, after}) {
            System.out.println(p.line());
        }
        System.out.printf("  threads live-fresh: Java %+d, OS %+d; per child (live-warm)/N: heap %.0f B, RSS %.1f KiB%n",
                live.javaThreads - fresh.javaThreads, live.osThreads - fresh.osThreads,
                (live.heapUsed - warm.heapUsed) / (double) n, (live.rssKiB - warm.rssKiB) / (double) n);
        System.out.printf("  thread families that grew (live vs fresh): %s%n", grown(fresh, live));
        if (json != null) {
            try (PrintWriter w = Stats.jsonWriter(json)) {
                w.printf("{\"harness\":\"LiveChildren\",\"library\":%s,\"backend\":%s,\"children\":%d,\"vm\":%s,"
                                + "\"java\":%s,\"spawn_ms\":%.1f,\"fresh\":%s,\"warm\":%s,\"live\":%s,\"after\":%s}%n",
                        Stats.jsonString(library), Stats.jsonString(backend), n,
                        Stats.jsonString(System.getProperty("java.vm.name")),
                        Stats.jsonString(System.getProperty("java.version")), spawnNanos / 1e6,
                        fresh.json(), warm.json(), live.json(), after.json());
            }
        }
    }

    private static Map<String, Integer> grown(Point a, Point b) {
        Map<String, Integer> out = new TreeMap<>();
        for (Map.Entry<String, Integer> e : b.threadFamilies.entrySet()) {
            int d = e.getValue() - a.threadFamilies.getOrDefault(e.getKey(), 0);
            if (d != 0) {
                out.put(e.getKey(), d);
            }
        }
        for (Map.Entry<String, Integer> e : a.threadFamilies.entrySet()) {
            if (!b.threadFamilies.containsKey(e.getKey())) {
                out.put(e.getKey(), -e.getValue());
            }
        }
        return out;
    }
}
