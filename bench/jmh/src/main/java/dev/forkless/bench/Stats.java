package dev.forkless.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Small statistics and I/O helpers shared by the plain (non-JMH) harnesses, {@link ExitLatency},
 * {@link LiveChildren} and {@link ConcurrentOutput}. The intervals are computed the way {@code bench/summarize.py} does:
 * a bootstrap over blocks (rounds), not single samples, because samples taken in one round share
 * the machine's load of that moment; fixed seed, 4000 resamples, 2.5% and 97.5% quantiles.
 */
final class Stats {
    static final int BOOT = 4000;
    static final long SEED = 20240611L;

    private Stats() {}

    /** Nearest-rank quantile (q in 0..1) of sorted values. */
    static double quantile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[(int) Math.round(q * (sorted.length - 1))];
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Median of each block of {@code block} consecutive samples (a last partial block too). */
    static double[] blockMedians(long[] samples, int block) {
        int nb = (samples.length + block - 1) / block;
        double[] out = new double[nb];
        for (int b = 0; b < nb; b++) {
            long[] part = Arrays.copyOfRange(samples, b * block, Math.min(samples.length, (b + 1) * block));
            Arrays.sort(part);
            out[b] = part.length % 2 == 1 ? part[part.length / 2]
                    : (part[part.length / 2 - 1] + part[part.length / 2]) / 2.0;
        }
        return out;
    }

    /** 95% interval of the median of block medians: {lo, hi}. */
    static double[] bootMedian(double[] blocks) {
        Random rng = new Random(SEED);
        double[] rs = new double[BOOT];
        double[] pick = new double[blocks.length];
        for (int i = 0; i < BOOT; i++) {
            for (int j = 0; j < pick.length; j++) {
                pick[j] = blocks[rng.nextInt(blocks.length)];
            }
            rs[i] = median(pick);
        }
        Arrays.sort(rs);
        return new double[] {rs[(int) (0.025 * BOOT)], rs[(int) (0.975 * BOOT) - 1]};
    }

    /**
     * 95% interval of median(a)/median(b) where block i of a and block i of b were measured in the
     * same round (paired): the same round indices are drawn for both.
     */
    static double[] bootRatioPaired(double[] a, double[] b) {
        int n = Math.min(a.length, b.length);
        Random rng = new Random(SEED);
        double[] rs = new double[BOOT];
        double[] pa = new double[n];
        double[] pb = new double[n];
        for (int i = 0; i < BOOT; i++) {
            for (int j = 0; j < n; j++) {
                int k = rng.nextInt(n);
                pa[j] = a[k];
                pb[j] = b[k];
            }
            rs[i] = median(pa) / median(pb);
        }
        Arrays.sort(rs);
        return new double[] {rs[(int) (0.025 * BOOT)], rs[(int) (0.975 * BOOT) - 1]};
    }

    /** The value of a "Name:   123 kB"-style line of /proc/self/status, or -1. */
    static long procStatus(String key) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII);
            for (String l : lines) {
                if (l.startsWith(key + ":")) {
                    String v = l.substring(key.length() + 1).trim();
                    int sp = v.indexOf(' ');
                    return Long.parseLong(sp < 0 ? v : v.substring(0, sp));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** Two {@code System.gc()}, 150 ms apart, then another 150 ms: a settled heap and idle threads. */
    static void settle() throws InterruptedException {
        for (int i = 0; i < 2; i++) {
            System.gc();
            Thread.sleep(150);
        }
    }

    /** "ForkJoinPool.commonPool-worker-3" -> "ForkJoinPool.commonPool-worker-N". */
    static String family(String threadName) {
        return threadName.replaceAll("\\d+", "N");
    }

    /** How many of the threads there are per {@link #family}, sorted by family. */
    static Map<String, Integer> families(Iterable<Thread> threads) {
        Map<String, Integer> out = new TreeMap<>();
        for (Thread t : threads) {
            out.merge(family(t.getName()), 1, Integer::sum);
        }
        return out;
    }

    /** {@code {"name":count,...}} in the map's order. */
    static String jsonObject(Map<String, Integer> counts) {
        StringBuilder b = new StringBuilder("{");
        String sep = "";
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            b.append(sep).append(jsonString(e.getKey())).append(':').append(e.getValue());
            sep = ",";
        }
        return b.append('}').toString();
    }

    /** A UTF-8 writer to the file at path (created or truncated). */
    static PrintWriter jsonWriter(String path) throws IOException {
        return new PrintWriter(Files.newBufferedWriter(Path.of(path), StandardCharsets.UTF_8));
    }

    static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
