package dev.forkless.loaderprobe;

import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.Forkless;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The helper JVM of {@code dev.forkless.NativeLoadingTest}: uses Forkless the way an application
 * does and prints what it saw, one {@code key=value} line each (newlines in values as {@code |}).
 * It lives outside the package {@code dev.forkless} so that it can run on the class path while
 * the Forkless jar is on the module path.
 *
 * <ul>
 *   <li>with the argument {@code hook}: {@code hookExit}, the exit code of a child that a
 *       shutdown hook spawns and waits for (7), or {@code hookError};</li>
 *   <li>{@code available}, {@code cause}: {@code Forkless.isAvailable()} and
 *       {@code unavailabilityCause()}, or {@code threw} with what they threw;</li>
 *   <li>{@code spawn}: the exit code of {@code /bin/true}, or {@code spawnError} with the class and
 *       message of what {@code spawn()} threw;</li>
 *   <li>{@code location}: {@code Forkless.nativeLibraryLocation()};</li>
 *   <li>{@code mappings}: how many distinct files named {@code libforkless_jni*} this process has
 *       mapped (from {@code /proc/self/maps}; a deleted file still counts).</li>
 * </ul>
 */
public final class LoaderProbe {
    private LoaderProbe() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length > 0 && args[0].equals("hook")) {
            // A shutdown hook that waits for a child: the reactor must still report exits then.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (Child c = Command.of("/bin/sh", "-c", "exit 7").spawn()) {
                    System.out.println("hookExit=" + c.waitFor().code().orElse(-1));
                } catch (Throwable t) {
                    System.out.println("hookError=" + describe(t));
                }
            }));
        }
        try {
            System.out.println("available=" + Forkless.isAvailable());
            System.out.println("cause=" + Forkless.unavailabilityCause().map(LoaderProbe::describe).orElse(""));
        } catch (Throwable t) {
            System.out.println("threw=" + describe(t));
        }
        try (Child c = Command.of("/bin/true").spawn()) {
            System.out.println("spawn=" + c.waitFor().code().orElse(-1));
        } catch (Throwable t) {
            System.out.println("spawnError=" + describe(t));
        }
        try {
            System.out.println("location=" + Forkless.nativeLibraryLocation().orElse(""));
        } catch (Throwable t) {
            System.out.println("locationError=" + describe(t));
        }
        System.out.println("mappings=" + mappedCopies());
    }

    private static String describe(Throwable t) {
        return (t.getClass().getName() + ": " + t.getMessage()).replace('\n', '|');
    }

    /** Distinct (device, inode) pairs of mapped files whose name starts with libforkless_jni. */
    private static int mappedCopies() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/maps"));
        Set<String> files = new HashSet<>();
        for (String line : lines) {
            // address perms offset dev inode path
            String[] f = line.trim().split("\\s+", 6);
            if (f.length == 6 && Path.of(f[5].replace(" (deleted)", "")).getFileName().toString()
                    .startsWith("libforkless_jni")) {
                files.add(f[3] + " " + f[4]);
            }
        }
        return files.size();
    }
}
