package dev.forkless;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.forkless.internal.NativeLoader;
import dev.forkless.loaderprobe.LoaderProbe;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading the native library as an application sees it, each case in a fresh JVM
 * ({@link LoaderProbe}): the loader's outcome is kept per JVM, so the cases that matter here (a
 * denied native access, an explicit path, the first extraction) cannot be replayed in this one.
 * The library always comes from a jar (the packaged one under Failsafe, else one made here from
 * the main classes), as an application gets it.
 */
class NativeLoadingTest {
    private static final Path JDK25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
    private static final String PROBE = LoaderProbe.class.getName();

    @TempDir
    static Path shared;
    private static Path jar;

    /** The Forkless jar: the packaged one if the tests run on it, else one made from target/classes. */
    private static synchronized Path forklessJar() throws IOException, URISyntaxException {
        if (jar != null) {
            return jar;
        }
        Path main = Path.of(Forkless.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (Files.isRegularFile(main)) {
            jar = main;
            return jar;
        }
        Path made = shared.resolve("forkless.jar");
        try (OutputStream out = Files.newOutputStream(made); JarOutputStream j = new JarOutputStream(out);
             Stream<Path> files = Files.walk(main)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                j.putNextEntry(new JarEntry(main.relativize(f).toString().replace('\\', '/')));
                j.write(Files.readAllBytes(f));
                j.closeEntry();
            }
        }
        jar = made;
        return jar;
    }

    private static Path testClasses() throws URISyntaxException {
        return Path.of(LoaderProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static String currentJava() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Runs the probe; returns its key=value lines. {@code modulePath}: the jar on the module path. */
    private static Map<String, String> probe(String java, boolean modulePath, List<String> options)
            throws Exception {
        return probe(java, modulePath, options, List.of());
    }

    private static Map<String, String> probe(String java, boolean modulePath, List<String> options,
                                             List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(options);
        if (modulePath) {
            cmd.addAll(List.of("--module-path", forklessJar().toString(), "--add-modules", "dev.forkless",
                    "-cp", testClasses().toString()));
        } else {
            cmd.addAll(List.of("-cp", forklessJar() + File.pathSeparator + testClasses()));
        }
        cmd.add(PROBE);
        cmd.addAll(args);
        Path out = Files.createTempFile(shared, "probe-", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), () -> "probe did not finish: " + cmd);
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), () -> cmd + "\n" + text);
        Map<String, String> m = new HashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        m.put("_output", text);
        return m;
    }

    // ---- 1. JDK 24+ with --illegal-native-access=deny -----------------------------------------

    private static void assertDeniedWithHint(Map<String, String> r, String flag) {
        String all = r.get("_output");
        assertEquals("false", r.get("available"), all);
        assertTrue(r.get("cause").startsWith("java.lang.UnsatisfiedLinkError: "), all);
        assertTrue(r.get("cause").contains("add " + flag + " "), all);
        assertTrue(r.get("spawnError").startsWith("java.lang.UnsatisfiedLinkError: "), all);
        assertTrue(r.get("spawnError").contains("add " + flag + " "), all);
        assertEquals("", r.get("location"), all);
        assertEquals("0", r.get("mappings"), all);
    }

    @Test
    void deniedNativeAccessOnTheClassPathNamesAllUnnamed() throws Exception {
        assumeTrue(Files.isExecutable(JDK25), "no JDK 25 at " + JDK25);
        assertDeniedWithHint(probe(JDK25.toString(), false, List.of("--illegal-native-access=deny")),
                "--enable-native-access=ALL-UNNAMED");
        // The hint is the right one: with it, the same JVM loads and spawns.
        Map<String, String> ok = probe(JDK25.toString(), false,
                List.of("--illegal-native-access=deny", "--enable-native-access=ALL-UNNAMED"));
        assertEquals("true", ok.get("available"), ok.get("_output"));
        assertEquals("0", ok.get("spawn"), ok.get("_output"));
    }

    @Test
    void deniedNativeAccessOnTheModulePathNamesTheModule() throws Exception {
        assumeTrue(Files.isExecutable(JDK25), "no JDK 25 at " + JDK25);
        assertDeniedWithHint(probe(JDK25.toString(), true, List.of("--illegal-native-access=deny")),
                "--enable-native-access=dev.forkless");
        Map<String, String> ok = probe(JDK25.toString(), true,
                List.of("--illegal-native-access=deny", "--enable-native-access=dev.forkless"));
        assertEquals("true", ok.get("available"), ok.get("_output"));
        assertEquals("0", ok.get("spawn"), ok.get("_output"));
    }

    // ---- 2. An explicit library path that cannot be honoured -----------------------------------

    @Test
    void anExplicitPathThatDoesNotExistIsAnErrorNotAFallback(@TempDir Path tmp) throws Exception {
        Path nope = tmp.resolve("nope.so");
        Map<String, String> r = probe(currentJava(), false, List.of("--enable-native-access=ALL-UNNAMED",
                "-D" + NativeLoader.PATH_PROPERTY + "=" + nope, "-Dforkless.tmpdir=" + tmp));
        String all = r.get("_output");
        assertEquals("false", r.get("available"), all);
        assertTrue(r.get("cause").contains("system property forkless.library.path=" + nope + ": no such file: " + nope), all);
        assertTrue(r.get("spawnError").contains("forkless.library.path=" + nope + ": no such file"), all);
        assertEquals("0", r.get("mappings"), all);
    }

    @Test
    void anExplicitPathThatIsNotALibraryIsAnErrorNotAFallback(@TempDir Path tmp) throws Exception {
        Path junk = Files.writeString(tmp.resolve("libjunk.so"), "not a library\n");
        Map<String, String> r = probe(currentJava(), false, List.of("--enable-native-access=ALL-UNNAMED",
                "-D" + NativeLoader.PATH_PROPERTY + "=" + junk, "-Dforkless.tmpdir=" + tmp));
        String all = r.get("_output");
        assertEquals("false", r.get("available"), all);
        // The reason, then the dynamic loader's own words (which name the file).
        assertTrue(r.get("cause").contains("system property forkless.library.path=" + junk
                + ": not a loadable library: "), all);
        assertTrue(r.get("cause").contains(junk + ": "), all);
        assertEquals("0", r.get("mappings"), all);
    }

    // ---- 3. One load, nothing left behind -----------------------------------------------------

    private static List<String> tree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted()
                    .collect(Collectors.toList());
        }
    }

    private static List<String> jarOptions(Path base) {
        return List.of("--enable-native-access=ALL-UNNAMED", "-Dforkless.tmpdir=" + base,
                "-Djava.io.tmpdir=" + base);
    }

    @Test
    void theJarsLibraryIsMappedOnceAndItsCacheReused(@TempDir Path base) throws Exception {
        String user = System.getProperty("user.name").replaceAll("[^A-Za-z0-9._-]", "_");
        Map<String, String> first = probe(currentJava(), false, jarOptions(base));
        assertEquals("0", first.get("spawn"), first.get("_output"));
        assertEquals("1", first.get("mappings"), first.get("_output"));
        List<String> after = tree(base);
        assertEquals(2, after.size(), after::toString);
        assertEquals("forkless-" + user, after.get(0));
        assertTrue(after.get(1).matches("forkless-" + user + "/libforkless_jni-[0-9a-f]{64}\\.so"), after::toString);
        assertEquals(base.resolve(after.get(1)).toString(), first.get("location"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(base.resolve(after.get(0)))));
        Object inode = Files.getAttribute(base.resolve(after.get(1)), "unix:ino");

        // A second start reuses the copy as it is and leaves nothing new.
        Map<String, String> second = probe(currentJava(), false, jarOptions(base));
        assertEquals("0", second.get("spawn"), second.get("_output"));
        assertEquals("1", second.get("mappings"), second.get("_output"));
        assertEquals(after, tree(base));
        assertEquals(inode, Files.getAttribute(base.resolve(after.get(1)), "unix:ino"));
    }

    @Test
    void aCacheDirectoryOfAnotherUserIsNotUsedAndNothingIsLeftBehind(@TempDir Path base) throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to make a directory another user owns");
        String user = System.getProperty("user.name");
        Path foreign = Files.createDirectory(base.resolve("forkless-" + user));
        Files.setPosixFilePermissions(foreign, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setAttribute(foreign, "unix:uid", 65534);
        Files.setAttribute(foreign, "unix:gid", 65534);

        Map<String, String> r = probe(currentJava(), false, jarOptions(base));
        String all = r.get("_output");
        assertEquals("true", r.get("available"), all);
        assertEquals("0", r.get("spawn"), all);
        assertEquals("1", r.get("mappings"), all);
        String location = r.get("location");
        assertNotNull(location, all);
        assertFalse(location.startsWith(foreign.toString()), all);
        assertTrue(location.startsWith(base.toString()), all);
        // The private copy and its directory are gone; the other user's directory is untouched.
        assertEquals(List.of("forkless-" + user), tree(base));
        assertEquals(65534, Files.getAttribute(foreign, "unix:uid"));
    }

    @Test
    void aSymbolicLinkInPlaceOfTheCacheDirectoryIsNotFollowed(@TempDir Path base) throws Exception {
        String user = System.getProperty("user.name").replaceAll("[^A-Za-z0-9._-]", "_");
        Path elsewhere = Files.createDirectory(base.resolve("elsewhere"));
        Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(base.resolve("forkless-" + user), elsewhere);

        Map<String, String> r = probe(currentJava(), false, jarOptions(base));
        assertEquals("0", r.get("spawn"), r.get("_output"));
        assertEquals("1", r.get("mappings"), r.get("_output"));
        assertEquals(List.of("elsewhere", "forkless-" + user), tree(base));
    }

    /**
     * Once the JVM is shutting down the reactor polls instead of blocking in native code (which
     * would hold up HotSpot's exit by about 300 ms); a shutdown hook still gets its child's exit.
     */
    @Test
    void aShutdownHookStillSeesItsChildExit(@TempDir Path base) throws Exception {
        Map<String, String> r = probe(currentJava(), false, jarOptions(base), List.of("hook"));
        assertEquals("0", r.get("spawn"), r.get("_output"));
        assertEquals("7", r.get("hookExit"), r.get("_output"));
    }

    /**
     * A first use (here with a first extraction: {@code base} is empty) starts nothing it does not
     * need: no logging back end (a spawn that goes well logs nothing; the first
     * {@code System.getLogger} of a JVM loads and configures java.util.logging), no
     * {@code SecureRandom} (behind {@code Files.createTempFile}; it starts the security
     * providers). Each cost tens of ms of a fresh JVM's first spawn, see docs/benchmarks.md.
     */
    @Test
    void aFirstSpawnStartsNeitherLoggingNorSecureRandom(@TempDir Path base) throws Exception {
        Path classes = base.resolve("classes.log");
        List<String> options = new ArrayList<>(jarOptions(base));
        options.add("-Xlog:class+load=info:file=" + classes);
        Map<String, String> r = probe(currentJava(), false, options);
        assertEquals("0", r.get("spawn"), r.get("_output"));
        String loaded = Files.readString(classes);
        assertTrue(loaded.contains(" dev.forkless.internal.Reactor "), "class log has no Reactor: " + classes);
        assertFalse(loaded.contains(" java.util.logging.LogManager "), "java.util.logging was started");
        assertFalse(loaded.contains(" java.lang.System$LoggerFinder "), "a System.Logger was looked up");
        assertFalse(loaded.contains(" java.security.SecureRandom "), "SecureRandom was started");
    }
}
