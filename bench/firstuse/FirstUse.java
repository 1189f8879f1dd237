import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.Forkless;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * First use in a fresh JVM: what the first spawn costs a program that has just started, with
 * Forkless and with ProcessBuilder. Each sample is a new JVM that runs one of the two and reports,
 * measured inside it with System.nanoTime from its first line of main:
 * <ul>
 *   <li>forkless: {@code load} = {@code Forkless.isAvailable()} (finds, maybe extracts, loads and
 *       registers the library), {@code spawn} = the first {@code Command.of("/bin/true").spawn()}
 *       and {@code waitFor()} (class initialization, the reactor thread's start, the spawn),
 *       {@code total} = both;</li>
 *   <li>pb: {@code total} = the first {@code new ProcessBuilder("/bin/true").start().waitFor()}.</li>
 * </ul>
 * The two kinds alternate (ABAB, then BABA in the next round) so a drift of the machine hits both.
 * {@code warm}: the extracted library is already in the per-user cache (every start but the first
 * on a machine); {@code cold}: a new empty {@code forkless.tmpdir} per JVM (the very first start).
 *
 * <p>Usage (bench/run-firstuse.sh compiles this file against the jar and runs it):
 * {@code java -cp <jar>:<dir> FirstUse <rounds> <warm|cold> [java]}; the child side is
 * {@code FirstUse child forkless|pb}.
 */
public final class FirstUse {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("child")) {
            child(args[1]);
            return;
        }
        int rounds = Integer.parseInt(args[0]);
        boolean cold = args[1].equals("cold");
        String java = args.length > 2 ? args[2] : Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        Path tmp = Files.createTempDirectory("firstuse-");
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            String[] order = r % 2 == 0 ? new String[] {"forkless", "pb"} : new String[] {"pb", "forkless"};
            for (String kind : order) {
                Path base = cold ? Files.createTempDirectory(tmp, "cold-") : tmp.resolve("warm");
                List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                        "-Dforkless.tmpdir=" + base, "-cp", cp, "FirstUse", "child", kind));
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                int rc = p.waitFor();
                double wall = (System.nanoTime() - t0) / 1e6;
                if (rc != 0) {
                    throw new IllegalStateException(cmd + " exited " + rc + ":\n" + out);
                }
                if (r == 0 && !cold) {
                    continue; // the warm run's first Forkless start fills the cache: not a sample
                }
                samples.computeIfAbsent(kind + " jvm-wall", k -> new ArrayList<>()).add(wall);
                for (String line : out.split("\n")) {
                    String[] kv = line.trim().split("=");
                    if (kv.length == 2) {
                        samples.computeIfAbsent(kind + " " + kv[0], k -> new ArrayList<>()).add(Double.parseDouble(kv[1]));
                    }
                }
            }
        }
        System.out.printf("java=%s mode=%s rounds=%d (samples per row: %d)%n", java, args[1], rounds,
                samples.values().iterator().next().size());
        System.out.printf("%-22s %9s %9s %9s %9s %9s  (ms)%n", "", "median", "p10", "p90", "min", "max");
        for (Map.Entry<String, List<Double>> e : samples.entrySet()) {
            double[] v = e.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf("%-22s %9.1f %9.1f %9.1f %9.1f %9.1f%n", e.getKey(), pct(v, 50), pct(v, 10),
                    pct(v, 90), v[0], v[v.length - 1]);
        }
        double f = pct(sorted(samples.get("forkless total")), 50);
        double b = pct(sorted(samples.get("pb total")), 50);
        System.out.printf("ratio forkless total / pb total (medians): %.2f%n", f / b);
        System.out.println("raw:");
        for (Map.Entry<String, List<Double>> e : samples.entrySet()) {
            System.out.println(e.getKey() + ": " + e.getValue());
        }
    }

    private static double[] sorted(List<Double> l) {
        double[] v = l.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v;
    }

    private static double pct(double[] sorted, int p) {
        double pos = (sorted.length - 1) * p / 100.0;
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    private static void child(String kind) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        if (kind.equals("forkless")) {
            if (!Forkless.isAvailable()) {
                throw new IllegalStateException(String.valueOf(Forkless.unavailabilityCause().orElse(null)));
            }
            long t1 = System.nanoTime();
            try (Child c = Command.of("/bin/true").spawn()) {
                c.waitFor();
            }
            long t2 = System.nanoTime();
            System.out.printf("load=%.3f%nspawn=%.3f%ntotal=%.3f%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t2 - t0) / 1e6);
        } else {
            new ProcessBuilder("/bin/true").start().waitFor();
            long t1 = System.nanoTime();
            System.out.printf("total=%.3f%n", (t1 - t0) / 1e6);
        }
    }
}
