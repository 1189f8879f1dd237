package dev.forkless;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The helper child for tests that need to see the world exactly as a JVM child does: started as
 * {@code java -cp <test class path> dev.forkless.HelperMain <mode> ...}.
 *
 * <p>Modes:
 * <ul>
 *   <li>{@code dump FILE ARGS...}: writes to FILE, one per line: the arguments after FILE (as
 *       Java strings, escaped), the working directory, then every environment variable sorted.</li>
 *   <li>{@code exit CODE}: exits with CODE.</li>
 * </ul>
 */
public final class HelperMain {
    private HelperMain() {
    }

    public static void main(String[] args) throws IOException {
        switch (args[0]) {
            case "dump": {
                StringBuilder sb = new StringBuilder();
                for (int i = 2; i < args.length; i++) {
                    sb.append("arg:").append(escape(args[i])).append('\n');
                }
                sb.append("cwd:").append(Path.of("").toAbsolutePath()).append('\n');
                for (Map.Entry<String, String> e : new TreeMap<>(System.getenv()).entrySet()) {
                    sb.append("env:").append(escape(e.getKey())).append('=').append(escape(e.getValue())).append('\n');
                }
                Files.writeString(Path.of(args[1]), sb, StandardCharsets.UTF_8);
                break;
            }
            case "exit":
                System.exit(Integer.parseInt(args[1]));
                break;
            default:
                throw new IllegalArgumentException(args[0]);
        }
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /**
     * Starts {@code mainClass} (a test class with a main method that uses Forkless) in a new JVM,
     * with Forkless itself (classes and native library) on the class path.
     */
    static java.util.List<String> commandWithForkless(Class<?> mainClass, String... args) {
        java.util.List<String> cmd = command(args);
        cmd.set(cmd.indexOf(HelperMain.class.getName()), mainClass.getName());
        int cp = cmd.indexOf("-cp") + 1;
        try {
            cmd.set(cp, cmd.get(cp) + java.io.File.pathSeparator
                    + Path.of(Command.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return cmd;
    }

    /** World-readable copies of the class path, made once per JVM (see {@link #readableByAll}). */
    private static Path readableCopy;

    /**
     * {@code cmd} (from {@link #commandWithForkless}) with its class path replaced by a copy every
     * user can read, for helper JVMs run as another user ({@code setpriv}): the build directory may
     * sit under a private directory (a {@code mktemp -d} clone is 0700). The native library this
     * JVM loaded is copied too and named with {@code -Dforkless.library.path}, so the helper
     * extracts nothing into the temporary directory as its user. The copy is made once per JVM
     * under the temporary directory and removed when this JVM exits.
     */
    static synchronized java.util.List<String> readableByAll(java.util.List<String> cmd) throws IOException {
        java.util.List<String> out = new java.util.ArrayList<>(cmd);
        int cp = out.indexOf("-cp") + 1;
        if (readableCopy == null) {
            Path root = Files.createTempDirectory("forkless-classpath");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
            readableCopy = root;
        }
        StringBuilder copied = new StringBuilder();
        String[] entries = out.get(cp).split(java.io.File.pathSeparator);
        for (int i = 0; i < entries.length; i++) {
            Path from = Path.of(entries[i]);
            Path to = readableCopy.resolve(i + "-" + from.getFileName());
            if (!Files.exists(to)) {
                copyTree(from, to);
            }
            copied.append(i == 0 ? "" : java.io.File.pathSeparator).append(to);
        }
        Path loaded = Path.of(Forkless.nativeLibraryLocation().orElseThrow());
        Path lib = readableCopy.resolve(loaded.getFileName());
        if (!Files.exists(lib)) {
            Files.copy(loaded, lib);
        }
        makeReadableByAll(readableCopy);
        out.set(cp, copied.toString());
        out.add(1, "-Dforkless.library.path=" + lib);
        return out;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (java.util.stream.Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.copy(p, to.resolve(from.relativize(p).toString()), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    private static void makeReadableByAll(Path root) throws IOException {
        try (java.util.stream.Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(
                        Files.isDirectory(p) || Files.isExecutable(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    private static void deleteTree(Path root) {
        try (java.util.stream.Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // Best effort at exit: a copy in the temporary directory harms nothing.
        }
    }

    /** The command that starts this helper in a new JVM, for Command.of(List). */
    static java.util.List<String> command(String... args) {
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("-Xshare:auto");
        cmd.add("-XX:TieredStopAtLevel=1");
        // JDK 24+ warns on stderr (which some tests read) when Forkless loads its library without
        // it; JDK 17 accepts it as well.
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        try {
            // This class needs nothing but itself: its own class-path root (test-classes).
            cmd.add(Path.of(HelperMain.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        cmd.add(HelperMain.class.getName());
        cmd.addAll(java.util.List.of(args));
        return cmd;
    }
}
