package dev.forkless;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.forkless.internal.NativeLoader;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native library loader. Maven runs this class twice: Surefire on {@code target/classes}
 * (the library is a plain file, loaded in place) and Failsafe on the packaged jar (the library is
 * extracted); the system property {@code forkless.test.expectedSource} ({@code file} / {@code jar})
 * says which, so each run checks that the path it was meant to exercise really was taken.
 */
class ForklessLoaderTest {
    private static final String MISSING = "forkless_test_no_such_library";

    private static URL bundledResource() {
        String resource = NativeLoader.Request.fromSystemProperties().resourcePath();
        return resource == null ? null : Forkless.class.getResource(resource);
    }

    private static String describe(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    /**
     * The Windows JNI library that ci/windows.sh cross-builds (ci/setup.sh runs it before the
     * jar is made) is carried under the name the loader looks for on Windows, byte for byte, with
     * the build's SHA-256 of it beside it (so a Windows JVM does not hash it at every start).
     */
    @Test
    void theWindowsLibraryIsCarriedWhereTheLoaderLooksForIt() throws Exception {
        Path built = Path.of(System.getProperty("forkless.test.windowsDll", "target/windows/none"));
        assumeTrue(Files.isRegularFile(built), () -> "not cross-built here (ci/windows.sh --build-only): " + built);
        String resource = "/META-INF/native/" + NativeLoader.platform("Windows 11", "amd64") + "/"
                + "forkless_jni.dll";
        assertEquals("/META-INF/native/windows-x86_64/forkless_jni.dll", resource);
        try (var in = NativeLoader.class.getResourceAsStream(resource)) {
            assertTrue(in != null, "not on the class path: " + resource);
            assertArrayEquals(Files.readAllBytes(built), in.readAllBytes());
        }
        String hex = java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(built)));
        try (var in = NativeLoader.class.getResourceAsStream(resource + ".sha256")) {
            assertTrue(in != null, "no .sha256 beside " + resource);
            assertEquals(hex, new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        }
    }

    @Test
    void platformNamesAreNormalized() {
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "amd64"));
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "x86_64"));
        assertEquals("linux-aarch64", NativeLoader.platform("Linux", "aarch64"));
        assertEquals("linux-aarch64", NativeLoader.platform("Linux", "arm64"));
        assertEquals("macos-aarch64", NativeLoader.platform("Mac OS X", "aarch64"));
        assertEquals("windows-x86_64", NativeLoader.platform("Windows 11", "amd64"));
        assertNull(NativeLoader.platform("", "amd64"));
    }

    @Test
    void bundledLibraryLoadsOrTheCauseSaysWhy() {
        boolean available = Forkless.isAvailable();
        Optional<Throwable> cause = Forkless.unavailabilityCause();
        if (bundledResource() != null) {
            assertTrue(available, () -> "bundled library did not load:\n" + cause.map(ForklessLoaderTest::describe).orElse("?"));
        }
        if (available) {
            assertEquals(Optional.empty(), cause);
            assertTrue(Forkless.nativeLibraryLocation().isPresent());
            assertDoesNotThrow(NativeLoader::ensureLoaded);
        } else {
            Throwable t = cause.orElseThrow();
            assertTrue(t instanceof UnsatisfiedLinkError, t::toString);
            assertTrue(t.getMessage().contains("1. system property forkless.library.path"), t.getMessage());
            assertTrue(t.getMessage().contains("3. System.loadLibrary(\"forkless_jni\")"), t.getMessage());
            assertEquals(Optional.empty(), Forkless.nativeLibraryLocation());
            UnsatisfiedLinkError thrown = assertThrows(UnsatisfiedLinkError.class, NativeLoader::ensureLoaded);
            assertEquals(t.getMessage(), thrown.getMessage());
        }
    }

    @Test
    void loadedFromTheExpectedPlace() throws Exception {
        String expected = System.getProperty("forkless.test.expectedSource");
        assumeTrue(expected != null, "not run by Maven");
        assumeTrue(System.getProperty(NativeLoader.PATH_PROPERTY) == null, "explicit library path given");
        URL url = bundledResource();
        assumeTrue(url != null, "no JNI library built yet (native/jni is empty)");

        String location = Forkless.nativeLibraryLocation().orElseThrow();
        if (expected.equals("file")) {
            assertEquals("file", url.getProtocol(), url::toString);
            assertEquals(Path.of(url.toURI()).toString(), location);
        } else {
            assertEquals("jar", url.getProtocol(), url::toString);
            Path loaded = Path.of(location);
            Path base = Path.of(System.getProperty(NativeLoader.TMPDIR_PROPERTY, System.getProperty("java.io.tmpdir")));
            assertTrue(loaded.startsWith(base), () -> location + " is not under " + base);
            assertTrue(loaded.getFileName().toString().matches("libforkless_jni-[0-9a-f]{64}\\.so"), location);
            try (var in = url.openStream()) {
                assertArrayEquals(in.readAllBytes(), Files.readAllBytes(loaded));
            }
            // The jar's manifest carries the version.
            assertFalse(Forkless.version().orElse("").isBlank());
        }
    }

    @Test
    void concurrentCallersAllSeeTheSameOutcome() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CyclicBarrier start = new CyclicBarrier(8);
            List<Future<Boolean>> results = pool.invokeAll(IntStream.range(0, 8)
                    .mapToObj(i -> (Callable<Boolean>) () -> {
                        start.await();
                        return Forkless.isAvailable();
                    })
                    .collect(Collectors.toList()));
            for (Future<Boolean> r : results) {
                assertEquals(Forkless.isAvailable(), r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void failureNamesEveryAttempt(@TempDir Path tmp) {
        NativeLoader.Outcome o = NativeLoader.attempt(
                new NativeLoader.Request(null, "linux-x86_64", MISSING, tmp));
        assertFalse(o.isLoaded());
        assertEquals(Optional.empty(), o.location());
        String m = o.newError().getMessage();
        assertTrue(m.contains("1. system property forkless.library.path: not set"), m);
        assertTrue(m.contains("2. class-path resource /META-INF/native/linux-x86_64/lib" + MISSING + ".so: not found"), m);
        assertTrue(m.contains("3. System.loadLibrary(\"" + MISSING + "\"): "), m);
        // Only the attempt that threw contributes an error: it is the cause.
        UnsatisfiedLinkError e = o.newError();
        assertTrue(e.getCause() instanceof UnsatisfiedLinkError, () -> describe(e));
        assertEquals(0, e.getSuppressed().length);
        // A fresh instance each time, so callers may throw or decorate it.
        assertNotEquals(System.identityHashCode(e), System.identityHashCode(o.newError()));
    }

    /**
     * A path the user gave that does not exist is the failure, although the bundled library (the
     * real one, on this class path) would load: no silent fall-back.
     */
    @Test
    void explicitPathThatDoesNotExistIsTheFailure(@TempDir Path tmp) {
        assumeTrue(bundledResource() != null, "no bundled library to fall back to");
        Path nowhere = tmp.resolve("nowhere/libforkless_jni.so");
        NativeLoader.Request real = NativeLoader.Request.fromSystemProperties();
        NativeLoader.Outcome o = NativeLoader.attempt(new NativeLoader.Request(nowhere.toString(),
                real.platform(), real.libraryName(), tmp));
        assertFalse(o.isLoaded(), o::description);
        assertEquals(Optional.empty(), o.location());
        String m = o.newError().getMessage();
        assertTrue(m.contains("system property forkless.library.path=" + nowhere + ": no such file: " + nowhere), m);
        assertTrue(m.contains("not tried while forkless.library.path is set"), m);
        assertNull(o.newError().getCause());
    }

    @Test
    void explicitFileThatIsNotALibraryIsTheFailure(@TempDir Path tmp) throws IOException {
        assumeTrue(bundledResource() != null, "no bundled library to fall back to");
        // An ELF file that dlopen refuses: the java launcher is a position-independent executable
        // (glibc >= 2.30 refuses those). A non-ELF file would do too, but makes HotSpot print a
        // warning about the stack guard.
        Path junk = Files.copy(Path.of(System.getProperty("java.home"), "bin", "java"), tmp.resolve("libjunk.so"));
        NativeLoader.Request real = NativeLoader.Request.fromSystemProperties();
        NativeLoader.Outcome o = NativeLoader.attempt(new NativeLoader.Request(junk.toString(),
                real.platform(), real.libraryName(), tmp));
        assumeTrue(!o.isLoaded() || !o.location().orElse("").equals(junk.toString()),
                "this C library loads executables");
        assertFalse(o.isLoaded(), o::description);
        UnsatisfiedLinkError e = o.newError();
        String m = e.getMessage();
        assertTrue(m.contains("system property forkless.library.path=" + junk + ": not a loadable library: "), m);
        // The loader's own error is the cause, and its message is quoted.
        assertTrue(e.getCause() instanceof UnsatisfiedLinkError, () -> describe(e));
        assertTrue(m.contains(e.getCause().getMessage()), m);
        assertEquals(0, e.getSuppressed().length);
    }

    @Test
    void explicitPathThatIsADirectoryIsTheFailure(@TempDir Path tmp) {
        NativeLoader.Outcome o = NativeLoader.attempt(new NativeLoader.Request(tmp.toString(), null, MISSING, tmp));
        assertFalse(o.isLoaded());
        String m = o.newError().getMessage();
        assertTrue(m.contains("system property forkless.library.path=" + tmp + ": not a regular file: " + tmp), m);
    }

    /** A jar holding one fake library; each test gets its own jar (jar URLs are cached by path). */
    private static URL jarWithLibrary(Path dir, byte[] content) throws IOException {
        return jarWithLibrary(dir, content, null);
    }

    /** The same, with {@code libdemo.so.sha256} holding {@code hashFile} unless it is null. */
    private static URL jarWithLibrary(Path dir, byte[] content, String hashFile) throws IOException {
        Path jar = dir.resolve("lib.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            j.putNextEntry(new JarEntry("META-INF/native/test/libdemo.so"));
            j.write(content);
            j.closeEntry();
            if (hashFile != null) {
                j.putNextEntry(new JarEntry("META-INF/native/test/libdemo.so.sha256"));
                j.write(hashFile.getBytes(StandardCharsets.US_ASCII));
                j.closeEntry();
            }
        }
        return java.net.URI.create("jar:" + jar.toUri() + "!/META-INF/native/test/libdemo.so").toURL();
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        return b;
    }

    private static List<Path> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).collect(Collectors.toList());
        }
    }

    @Test
    void extractionIsNamedByContentReusedAndRepaired(@TempDir Path tmp) throws Exception {
        byte[] content = randomBytes(200_000);
        URL url = jarWithLibrary(tmp, content);
        Path cache = Files.createDirectory(tmp.resolve("cache"));

        Path first = NativeLoader.extract(url, cache);
        String hex = java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        assertEquals(cache.resolve("libdemo-" + hex + ".so"), first);
        assertArrayEquals(content, Files.readAllBytes(first));
        Object inode = Files.readAttributes(first, "unix:ino").get("ino");

        // Same content: the existing copy is reused, not rewritten.
        assertEquals(first, NativeLoader.extract(url, cache));
        assertEquals(inode, Files.readAttributes(first, "unix:ino").get("ino"));

        // A damaged copy is replaced (atomically, so a new file).
        Files.setPosixFilePermissions(first, PosixFilePermissions.fromString("rw-------"));
        Files.write(first, "damaged".getBytes(StandardCharsets.US_ASCII));
        assertEquals(first, NativeLoader.extract(url, cache));
        assertArrayEquals(content, Files.readAllBytes(first));
        assertNotEquals(inode, Files.readAttributes(first, "unix:ino").get("ino"));
        assertEquals(List.of(), leftovers(cache));
    }

    /**
     * The hash the build stored beside the library names the copy: nothing is hashed at run time
     * (a made-up hash here shows which one was used). A malformed one is ignored.
     */
    @Test
    void theBuildTimeHashNamesTheCopy(@TempDir Path tmp) throws Exception {
        byte[] content = randomBytes(100_000);
        String stored = "ab".repeat(32);
        URL url = jarWithLibrary(tmp, content, stored + "\n");
        Path cache = Files.createDirectory(tmp.resolve("cache"));
        Path copy = NativeLoader.extract(url, cache);
        assertEquals(cache.resolve("libdemo-" + stored + ".so"), copy);
        assertArrayEquals(content, Files.readAllBytes(copy));

        Path other = Files.createDirectory(tmp.resolve("other"));
        URL malformed = jarWithLibrary(other, content, "not a hash");
        String hex = java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        assertEquals(other.resolve("libdemo-" + hex + ".so"),
                NativeLoader.extract(malformed, other));
    }

    /** The bundled library carries the build's hash, and it is the library's SHA-256. */
    @Test
    void theBundledLibraryCarriesItsHash() throws Exception {
        URL url = bundledResource();
        assumeTrue(url != null, "no JNI library built");
        byte[] lib;
        try (var in = url.openStream()) {
            lib = in.readAllBytes();
        }
        String hex = java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(lib));
        try (var in = Forkless.class.getResourceAsStream(NativeLoader.Request.fromSystemProperties().resourcePath() + ".sha256")) {
            assertTrue(in != null, "no .sha256 beside the library");
            assertEquals(hex, new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        }
    }

    @Test
    void concurrentExtractionsLeaveOneIntactCopy(@TempDir Path tmp) throws Exception {
        byte[] content = randomBytes(1_000_000);
        URL url = jarWithLibrary(tmp, content);
        Path cache = Files.createDirectory(tmp.resolve("cache"));
        int n = 8;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CyclicBarrier start = new CyclicBarrier(n);
            List<Future<Path>> results = pool.invokeAll(IntStream.range(0, n)
                    .mapToObj(i -> (Callable<Path>) () -> {
                        start.await();
                        Path p = NativeLoader.extract(url, cache);
                        // Whoever renamed last, the file at that name is always complete.
                        assertArrayEquals(content, Files.readAllBytes(p));
                        return p;
                    })
                    .collect(Collectors.toList()));
            Set<Path> paths = new HashSet<>();
            for (Future<Path> r : results) {
                paths.add(r.get());
            }
            assertEquals(1, paths.size(), paths::toString);
        } finally {
            pool.shutdownNow();
        }
        try (Stream<Path> s = Files.list(cache)) {
            assertEquals(1, s.count());
        }
    }
}
