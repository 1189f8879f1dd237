package dev.forkless.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Finds and loads the JNI library {@code libforkless_jni} exactly once per class loader.
 *
 * <h2>For the other internal classes</h2>
 * <ul>
 *   <li>{@link #ensureLoaded()}: loads on first use; throws {@link UnsatisfiedLinkError} whose
 *       message lists every attempt and why it failed (the first attempt that threw is its cause,
 *       later ones are suppressed exceptions). Call it from {@code Native}'s static initializer, or before the
 *       first native call, and wrap the error in the exception the caller should see.</li>
 *   <li>{@link #load()}: the same, but answers {@code true}/{@code false} and never throws.</li>
 *   <li>{@link #failure()}, {@link #location()}: what happened, after the first load.</li>
 * </ul>
 * The outcome is computed once and remembered, failure included: a JVM that could not load the
 * library does not retry (a second {@code System.load} of a half-failed library is not safe).
 *
 * <h2>Where it looks, in order</h2>
 * <ol>
 *   <li>The file named by the system property {@value #PATH_PROPERTY}, if set.</li>
 *   <li>The class-path resource {@code /META-INF/native/<os>-<arch>/libforkless_jni.so}
 *       ({@code linux-x86_64}, {@code linux-aarch64}; see {@link #platform(String, String)}).
 *       A plain {@code file:} resource (tests running from {@code target/classes}) is loaded in
 *       place. A resource inside a jar is copied to
 *       {@code <dir>/forkless-<user>/libforkless_jni-<sha256>.so} and loaded from there; {@code <dir>}
 *       is the system property {@value #TMPDIR_PROPERTY}, default {@code java.io.tmpdir}. The copy
 *       is written to a temporary file and renamed into place, so JVMs starting at the same time
 *       never see a half-written library, and a copy whose hash matches is reused.</li>
 *   <li>{@code System.loadLibrary("forkless_jni")}, i.e. {@code java.library.path}.</li>
 * </ol>
 * An attempt that fails falls through to the next one; which one finally worked is reported by
 * {@link #location()} (and {@code dev.forkless.Forkless.nativeLibraryLocation()}).
 *
 * <p>Hazards handled here: {@code /tmp} shared with other users (the cache directory must be ours
 * and not writable by anyone else, else a private temporary directory is used); a {@code noexec}
 * temporary directory (the failure message names {@value #TMPDIR_PROPERTY} as the fix).
 */
public final class NativeLoader {
    /** The library's name as {@link System#loadLibrary} and {@link System#mapLibraryName} see it. */
    public static final String LIBRARY_NAME = "forkless_jni";
    /** System property: an explicit path of the JNI library file, tried first. Unset by default. */
    public static final String PATH_PROPERTY = "forkless.library.path";
    /**
     * System property: the directory under which a library found inside a jar is extracted.
     * Default: {@code java.io.tmpdir}.
     */
    public static final String TMPDIR_PROPERTY = "forkless.tmpdir";

    private static final Object LOCK = new Object();
    private static volatile Outcome outcome;

    private NativeLoader() {
    }

    /**
     * Loads the library if that has not been tried yet in this class loader; thread-safe.
     *
     * @return whether the library is loaded
     */
    public static boolean load() {
        return outcome().isLoaded();
    }

    /**
     * Loads the library if that has not been tried yet, and throws if it could not be loaded.
     *
     * @throws UnsatisfiedLinkError a new instance each call, describing every attempt; the error
     *     of the first attempt that threw is the cause, those of later attempts are suppressed
     */
    public static void ensureLoaded() {
        Outcome o = outcome();
        if (!o.isLoaded()) {
            throw o.newError();
        }
    }

    /**
     * Why the library could not be loaded, after loading it if that has not been tried yet.
     *
     * @return empty if the library is loaded, else a new {@link UnsatisfiedLinkError} as thrown by
     *     {@link #ensureLoaded()}
     */
    public static Optional<UnsatisfiedLinkError> failure() {
        Outcome o = outcome();
        return o.isLoaded() ? Optional.empty() : Optional.of(o.newError());
    }

    /**
     * Where the library was loaded from, after loading it if that has not been tried yet.
     *
     * @return the absolute path of the loaded file, or {@code "java.library.path"} when
     *     {@code System.loadLibrary} found it; empty if the library is not loaded
     */
    public static Optional<String> location() {
        return outcome().location();
    }

    private static Outcome outcome() {
        Outcome o = outcome;
        if (o == null) {
            synchronized (LOCK) {
                o = outcome;
                if (o == null) {
                    o = attempt(Request.fromSystemProperties());
                    outcome = o;
                }
            }
        }
        return o;
    }

    /**
     * Where to look: the inputs of one run of the loading ladder.
     *
     * @param explicitPath the value of {@value #PATH_PROPERTY}, or null
     * @param platform the {@code <os>-<arch>} folder under {@code META-INF/native}, or null if
     *     this platform has none
     * @param libraryName the name for {@link System#mapLibraryName} and {@link System#loadLibrary}
     * @param extractionBase the directory under which a library from a jar is extracted
     */
    public record Request(String explicitPath, String platform, String libraryName, Path extractionBase) {
        /** Checks the arguments. */
        public Request {
            Objects.requireNonNull(libraryName, "libraryName");
            Objects.requireNonNull(extractionBase, "extractionBase");
        }

        /**
         * The request {@link #load()} makes: from the system properties {@value #PATH_PROPERTY},
         * {@value #TMPDIR_PROPERTY}, {@code java.io.tmpdir}, {@code os.name} and {@code os.arch}.
         *
         * @return the request
         */
        public static Request fromSystemProperties() {
            String explicit = System.getProperty(PATH_PROPERTY);
            if (explicit != null && explicit.isBlank()) {
                explicit = null;
            }
            String base = System.getProperty(TMPDIR_PROPERTY);
            if (base == null || base.isBlank()) {
                base = System.getProperty("java.io.tmpdir");
            }
            return new Request(explicit,
                    NativeLoader.platform(System.getProperty("os.name", ""), System.getProperty("os.arch", "")),
                    LIBRARY_NAME, Path.of(base));
        }

        /**
         * The class-path resource this request looks for.
         *
         * @return e.g. {@code /META-INF/native/linux-x86_64/libforkless_jni.so}; null without a
         *     platform
         */
        public String resourcePath() {
            return platform == null
                    ? null
                    : "/META-INF/native/" + platform + "/" + System.mapLibraryName(libraryName);
        }
    }

    /** The result of one run of the loading ladder. */
    public static final class Outcome {
        private final String location;
        private final String description;
        private final List<Throwable> errors;

        private Outcome(String location, String description, List<Throwable> errors) {
            this.location = location;
            this.description = description;
            this.errors = List.copyOf(errors);
        }

        /**
         * Whether an attempt succeeded.
         *
         * @return true if the library is loaded
         */
        public boolean isLoaded() {
            return location != null;
        }

        /**
         * The library's location; see {@link NativeLoader#location()}.
         *
         * @return the location, empty if not loaded
         */
        public Optional<String> location() {
            return Optional.ofNullable(location);
        }

        /**
         * Every attempt made, one per line, with why each failed.
         *
         * @return the description
         */
        public String description() {
            return description;
        }

        /**
         * A new error for a failed outcome; see {@link NativeLoader#ensureLoaded()}.
         *
         * @return the error (describing the success if the library is loaded)
         */
        public UnsatisfiedLinkError newError() {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError(description);
            // The first attempt that threw is the cause, the later ones are suppressed.
            for (int i = 0; i < errors.size(); i++) {
                if (i == 0) {
                    e.initCause(errors.get(0));
                } else {
                    e.addSuppressed(errors.get(i));
                }
            }
            return e;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /**
     * Runs the loading ladder once for {@code request} (see the class comment). This does not
     * change what {@link #load()} remembers; it exists for {@link #load()} and for tests.
     *
     * @param request where to look
     * @return what happened
     */
    public static Outcome attempt(Request request) {
        String fileName = System.mapLibraryName(request.libraryName());
        List<String> lines = new ArrayList<>();
        List<Throwable> errors = new ArrayList<>();

        // 1. An explicit file.
        if (request.explicitPath() == null) {
            lines.add("system property " + PATH_PROPERTY + ": not set");
        } else {
            Path p = Path.of(request.explicitPath()).toAbsolutePath();
            String what = "system property " + PATH_PROPERTY + "=" + request.explicitPath();
            if (!Files.isRegularFile(p)) {
                lines.add(what + ": no such file");
            } else {
                try {
                    System.load(p.toString());
                    return loaded(p.toString(), lines, what + ": loaded " + p);
                } catch (UnsatisfiedLinkError | SecurityException e) {
                    lines.add(what + ": " + e);
                    errors.add(e);
                }
            }
        }

        // 2. The class path, as a plain file or extracted from a jar.
        String resource = request.resourcePath();
        if (resource == null) {
            lines.add("class path: no bundled library for os.name=" + System.getProperty("os.name")
                    + ", os.arch=" + System.getProperty("os.arch"));
        } else {
            URL url = NativeLoader.class.getResource(resource);
            String what = "class-path resource " + resource;
            if (url == null) {
                lines.add(what + ": not found");
            } else if ("file".equals(url.getProtocol())) {
                try {
                    Path p = Path.of(url.toURI());
                    System.load(p.toString());
                    return loaded(p.toString(), lines, what + ": loaded in place from " + p);
                } catch (URISyntaxException | IllegalArgumentException | UnsatisfiedLinkError
                         | SecurityException e) {
                    lines.add(what + " (" + url + "): " + e);
                    errors.add(e);
                }
            } else {
                Path copy = null;
                try {
                    copy = extract(url, cacheDirectory(request.extractionBase()));
                    System.load(copy.toString());
                    return loaded(copy.toString(), lines, what + ": extracted to and loaded from " + copy);
                } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
                    String where = copy == null ? "extracting " + url : "loading the extracted copy " + copy;
                    lines.add(what + ": " + where + ": " + e
                            + " (if " + request.extractionBase() + " is mounted noexec or not writable, set -D"
                            + TMPDIR_PROPERTY + "=<a directory that is>)");
                    errors.add(e);
                }
            }
        }

        // 3. java.library.path.
        try {
            System.loadLibrary(request.libraryName());
            return loaded("java.library.path", lines,
                    "System.loadLibrary(\"" + request.libraryName() + "\"): loaded from java.library.path");
        } catch (UnsatisfiedLinkError | SecurityException e) {
            lines.add("System.loadLibrary(\"" + request.libraryName() + "\"): " + e.getMessage());
            errors.add(e);
        }

        StringBuilder sb = new StringBuilder()
                .append("Forkless native library ").append(fileName).append(" could not be loaded (os.name=")
                .append(System.getProperty("os.name")).append(", os.arch=").append(System.getProperty("os.arch"))
                .append(", java.version=").append(System.getProperty("java.version")).append("). Attempts:");
        for (int i = 0; i < lines.size(); i++) {
            sb.append("\n  ").append(i + 1).append(". ").append(lines.get(i));
        }
        return new Outcome(null, sb.toString(), errors);
    }

    private static Outcome loaded(String location, List<String> earlier, String how) {
        StringBuilder sb = new StringBuilder("Forkless native library loaded. Attempts:");
        int i = 1;
        for (String line : earlier) {
            sb.append("\n  ").append(i++).append(". ").append(line);
        }
        sb.append("\n  ").append(i).append(". ").append(how);
        return new Outcome(location, sb.toString(), List.of());
    }

    /**
     * The {@code <os>-<arch>} folder name under {@code META-INF/native} for the given
     * {@code os.name} and {@code os.arch} values.
     *
     * @param osName e.g. {@code Linux}
     * @param osArch e.g. {@code amd64}
     * @return e.g. {@code linux-x86_64}; {@code x86_64} stands for {@code amd64}/{@code x86_64}/
     *     {@code x64}, {@code aarch64} for {@code aarch64}/{@code arm64}; null for an empty input
     */
    public static String platform(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        String arch = osArch.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "");
        if (os.isEmpty() || arch.isEmpty()) {
            return null;
        }
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("macos") || os.startsWith("darwin")) {
            os = "macos";
        } else if (os.startsWith("windows")) {
            os = "windows";
        }
        switch (arch) {
            case "amd64":
            case "x86_64":
            case "x64":
                arch = "x86_64";
                break;
            case "arm64":
            case "aarch64":
                arch = "aarch64";
                break;
            default:
                break;
        }
        return os + "-" + arch;
    }

    /**
     * Copies {@code resource} into {@code directory} as {@code <name>-<sha256><ext>} unless a file
     * of that name with the same content is already there, and returns the file. Safe against
     * other threads and JVMs doing the same at the same time: the content is written to a
     * temporary file in {@code directory} and renamed over the final name atomically.
     *
     * @param resource a library file, usually a {@code jar:} URL
     * @param directory an existing directory private to this user
     * @return the extracted file
     * @throws IOException if reading or writing fails
     */
    public static Path extract(URL resource, Path directory) throws IOException {
        byte[] bytes;
        try (InputStream in = resource.openStream()) {
            bytes = in.readAllBytes();
        }
        String hash = sha256(bytes);
        String name = resource.getPath();
        name = name.substring(name.lastIndexOf('/') + 1);
        int dot = name.indexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : "";
        Path target = directory.resolve(stem + "-" + hash + ext);

        if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            try {
                if (hash.equals(sha256(Files.readAllBytes(target)))) {
                    return target;
                }
            } catch (IOException unreadable) {
                // Replaced below.
            }
        }
        Path tmp = Files.createTempFile(directory, "." + stem + "-", ".tmp");
        try {
            Files.write(tmp, bytes);
            trySetPermissions(tmp, "r-x------");
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }

    /**
     * The directory libraries from jars are extracted to: {@code <base>/forkless-<user>}, created
     * owner-only; if it exists but belongs to someone else or others may write to it, a new
     * private temporary directory under {@code base} instead (deleted when the JVM exits).
     */
    private static Path cacheDirectory(Path base) throws IOException {
        Files.createDirectories(base);
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        Path dir = base.resolve("forkless-" + user);
        boolean posix = Files.getFileStore(base).supportsFileAttributeView(PosixFileAttributeView.class);
        if (!posix) {
            Files.createDirectories(dir);
            return dir;
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException exists) {
            // Checked below.
        }
        if (isPrivate(dir, user)) {
            return dir;
        }
        Path fresh = Files.createTempDirectory(base, "forkless-");
        fresh.toFile().deleteOnExit();
        return fresh;
    }

    private static boolean isPrivate(Path dir, String user) {
        try {
            PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Set<PosixFilePermission> p = a.permissions();
            return a.isDirectory()
                    && a.owner().getName().equals(user)
                    && !p.contains(PosixFilePermission.GROUP_WRITE)
                    && !p.contains(PosixFilePermission.OTHERS_WRITE);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static void trySetPermissions(Path p, String perms) {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        } catch (UnsupportedOperationException | IOException e) {
            // Not a POSIX file system, or not allowed: the copy is usable with its default mode.
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
