package dev.forkless.bench;

import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.ExitStatus;
import dev.forkless.Stdio;
import java.io.File;
import java.util.Arrays;

/**
 * A diagnostic, not a benchmark: where the time of one Forkless spawn+wait goes, seen from Java.
 * Times {@code spawn()} (returns once the child has called execve) and {@code waitFor()} +
 * {@code close()} separately, in a plain loop, and prints their medians next to ProcessBuilder's
 * {@code start()} and {@code waitFor()}. Compare with {@code bench/c/spawn_bench}'s "fl_spawn
 * alone" line: the difference is the Java side (marshalling, /dev/null open/close, bookkeeping)
 * plus whatever running inside a JVM costs the same system calls.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/jmh/target/benchmarks.jar \
 *     dev.forkless.bench.SpawnSplit [iterations] [warmup]</pre>
 */
public final class SpawnSplit {
    private SpawnSplit() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        int warm = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        File devNull = new File("/dev/null");
        long[] fSpawn = new long[n], fWait = new long[n], pStart = new long[n], pWait = new long[n];
        // Alternate the two in blocks of 100 so outside load lands on both.
        for (int round = 0; round < 2; round++) {
            boolean measure = round == 1;
            int count = measure ? n : warm;
            for (int base = 0; base < count; base += 100) {
                int end = Math.min(count, base + 100);
                for (int i = base; i < end; i++) {
                    long t0 = System.nanoTime();
                    Command cmd = Command.of("/bin/true")
                            .stdin(Stdio.nul()).stdout(Stdio.nul()).stderr(Stdio.nul());
                    Child c = cmd.spawn();
                    long t1 = System.nanoTime();
                    ExitStatus st = c.waitFor();
                    c.close();
                    long t2 = System.nanoTime();
                    if (!st.success()) {
                        throw new IllegalStateException(st.toString());
                    }
                    if (measure) {
                        fSpawn[i] = t1 - t0;
                        fWait[i] = t2 - t1;
                    }
                }
                for (int i = base; i < end; i++) {
                    long t0 = System.nanoTime();
                    Process p = new ProcessBuilder("/bin/true")
                            .redirectInput(ProcessBuilder.Redirect.from(devNull))
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .redirectError(ProcessBuilder.Redirect.DISCARD)
                            .start();
                    long t1 = System.nanoTime();
                    int code = p.waitFor();
                    long t2 = System.nanoTime();
                    if (code != 0) {
                        throw new IllegalStateException("exit " + code);
                    }
                    if (measure) {
                        pStart[i] = t1 - t0;
                        pWait[i] = t2 - t1;
                    }
                }
            }
        }
        System.out.printf("SpawnSplit on %s %s, %d calls each (p50 µs [p25, p75])%n",
                System.getProperty("java.vm.name"), System.getProperty("java.version"), n);
        row("forkless  spawn()", fSpawn);
        row("forkless  waitFor()+close()", fWait);
        row("forkless  total", sum(fSpawn, fWait));
        row("ProcessBuilder start()", pStart);
        row("ProcessBuilder waitFor()", pWait);
        row("ProcessBuilder total", sum(pStart, pWait));
    }

    private static long[] sum(long[] a, long[] b) {
        long[] s = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            s[i] = a[i] + b[i];
        }
        return s;
    }

    private static void row(String what, long[] ns) {
        long[] v = ns.clone();
        Arrays.sort(v);
        System.out.printf("  %-30s %8.1f [%7.1f, %7.1f]%n", what, q(v, 0.5), q(v, 0.25), q(v, 0.75));
    }

    private static double q(long[] sorted, double q) {
        return sorted[(int) Math.round(q * (sorted.length - 1))] / 1000.0;
    }
}
