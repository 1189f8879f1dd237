import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * What the JDK facilities that Forkless's first use touched cost the first time in a fresh JVM,
 * each measured once, in this order, in a JVM that has done nothing else (so each row includes
 * whatever it starts first). Compile it first and run the class (the source launcher would have
 * warmed some of these up while compiling): {@code javac -d DIR bench/firstuse/JdkFirstCosts.java;
 * java -cp DIR JdkFirstCosts}, ten times per JDK. Not a benchmark of
 * Forkless: the reasons behind the numbers in docs/benchmarks.md,
 * "First use in a fresh JVM".
 */
public final class JdkFirstCosts {
    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        String s = "x" + args.length + t0 + '/' + s(args);   // an invokedynamic string concatenation
        long t1 = System.nanoTime();
        Runnable r = () -> { };                              // a first lambda
        r.run();
        long t2 = System.nanoTime();
        System.Logger l = System.getLogger("dev.forkless");  // the logging back end
        long t3 = System.nanoTime();
        "abc".replaceAll("[^a-z]", "_");                     // a regular expression
        long t4 = System.nanoTime();
        Path tmp = Files.createTempFile("jfc-", ".tmp");     // SecureRandom behind it
        long t5 = System.nanoTime();
        MessageDigest.getInstance("SHA-256").digest(new byte[300_000]); // the old per-start hash
        long t6 = System.nanoTime();
        Files.getFileStore(tmp);                             // the mount table
        long t7 = System.nanoTime();
        Files.delete(tmp);
        System.out.printf("concat %.1f  lambda %.1f  getLogger %.1f  regex %.1f  createTempFile %.1f"
                + "  sha256(300 KB) %.1f  getFileStore %.1f  (ms)%s%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6,
                (t3 - t2) / 1e6, (t4 - t3) / 1e6, (t5 - t4) / 1e6, (t6 - t5) / 1e6, (t7 - t6) / 1e6,
                s.isEmpty() || l == null ? "!" : "");
    }

    private static String s(String[] a) {
        return a.length > 0 ? a[0] : "";
    }
}
