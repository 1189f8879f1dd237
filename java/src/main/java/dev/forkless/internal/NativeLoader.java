package dev.forkless.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
import java.util.concurrent.ThreadLocalRandom;

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
 * <p>Re-entry: the library's {@code JNI_OnLoad} looks up {@code Native}, which initializes it, and
 * {@code Native}'s static initializer calls {@link #ensureLoaded()} again, in the thread that is
 * inside {@code System.load}. That nested call returns at once (the outer one reports the outcome);
 * running the ladder a second time would extract and map a second copy of the library.
 *
 * <h2>Where it looks, in order</h2>
 * <ol>
 *   <li>The file named by the system property {@value #PATH_PROPERTY}, if set. Then it is the
 *       only place tried: a path that does not exist or does not load is a failure that names the
 *       property, the path and the reason, never a silent fall-back to the bundled library.</li>
 *   <li>The class-path resource {@code /META-INF/native/<os>-<arch>/libforkless_jni.so}
 *       ({@code linux-x86_64}, {@code linux-aarch64}; see {@link #platform(String, String)}).
 *       A plain {@code file:} resource (tests running from {@code target/classes}) is loaded in
 *       place. A resource inside a jar is copied to
 *       {@code <dir>/forkless-<user>/libforkless_jni-<sha256>.so} and loaded from there; {@code <dir>}
 *       is the system property {@value #TMPDIR_PROPERTY}, default {@code java.io.tmpdir}. The
 *       hash is the one the build stored next to the library ({@code libforkless_jni.so.sha256}),
 *       so a later start reuses the copy without reading or hashing anything; a jar without that
 *       file has the library hashed at run time instead. The copy is written to a temporary file
 *       and renamed into place, so JVMs starting at the same time never see a half-written
 *       library.</li>
 *   <li>{@code System.loadLibrary("forkless_jni")}, i.e. {@code java.library.path}.</li>
 * </ol>
 * An attempt that fails falls through to the next one; which one finally worked is reported by
 * {@link #location()} (and {@code dev.forkless.Forkless.nativeLibraryLocation()}).
 *
 * <p>Hazards handled here: {@code /tmp} shared with other users (the cache directory must be a
 * real directory, not a symbolic link, owned by us and not writable by anyone else; otherwise the
 * library is copied into a new private temporary directory, loaded, and the copy and the directory
 * are deleted at once, which Linux allows for a mapped library, so nothing is left behind); a
 * {@code noexec} temporary directory (the failure message names {@value #TMPDIR_PROPERTY} as the
 * fix); JDK 24 and later run with {@code --illegal-native-access=deny}, where {@code System.load}
 * throws {@link IllegalCallerException} (reported as a failure that names the
 * {@code --enable-native-access} option to add, and no further place is tried).
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
    /** The thread running the ladder, while it does; guarded by {@link #LOCK}. */
    private static Thread loading;

    private NativeLoader() {
    }

    /**
     * Loads the library if that has not been tried yet in this class loader; thread-safe.
     *
     * @return whether the library is loaded
     */
    public static boolean load() {
        Outcome o = outcome();
        return o == null || o.isLoaded();
    }

    /**
     * Loads the library if that has not been tried yet, and throws if it could not be loaded.
     *
     * @throws UnsatisfiedLinkError a new instance each call, describing every attempt; the error
     *     of the first attempt that threw is the cause, those of later attempts are suppressed
     */
    public static void ensureLoaded() {
        Outcome o = outcome();
        if (o != null && !o.isLoaded()) {
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
        return o == null || o.isLoaded() ? Optional.empty() : Optional.of(o.newError());
    }

    /**
     * Where the library was loaded from, after loading it if that has not been tried yet.
     *
     * @return the absolute path of the loaded file, or {@code "java.library.path"} when
     *     {@code System.loadLibrary} found it; empty if the library is not loaded
     */
    public static Optional<String> location() {
        Outcome o = outcome();
        return o == null ? Optional.empty() : o.location();
    }

    /**
     * The remembered outcome, computing it on the first call; null in the thread that is running
     * the ladder (a call from the library's own {@code JNI_OnLoad}, see the class comment).
     */
    private static Outcome outcome() {
        Outcome o = outcome;
        if (o == null) {
            synchronized (LOCK) {
                o = outcome;
                if (o == null) {
                    if (loading == Thread.currentThread()) {
                        return null;
                    }
                    loading = Thread.currentThread();
                    try {
                        o = attempt(Request.fromSystemProperties());
                    } catch (RuntimeException | LinkageError e) {
                        // Callers such as Forkless.isAvailable() promise never to throw: whatever
                        // escaped (e.g. an invalid path in a property) is the remembered failure.
                        o = new Outcome(null, header(System.mapLibraryName(LIBRARY_NAME))
                                + ": unexpected " + e, List.of(e));
                    } finally {
                        loading = null;
                    }
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

        // 1. An explicit file: the only place tried when it is set.
        if (request.explicitPath() == null) {
            lines.add("system property " + PATH_PROPERTY + ": not set");
        } else {
            return explicit(request, fileName);
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
                } catch (IllegalCallerException e) {
                    return nativeAccessDenied(fileName, e);
                } catch (URISyntaxException | IllegalArgumentException | UnsatisfiedLinkError
                         | SecurityException e) {
                    lines.add(what + " (" + url + "): " + e);
                    errors.add(e);
                }
            } else {
                Path copy = null;
                Path scratch = null;
                try {
                    Path dir = cacheDirectory(request.extractionBase());
                    if (dir == null) {
                        scratch = createUnique(request.extractionBase(), "forkless-", "", true);
                    }
                    copy = extract(url, dir == null ? scratch : dir);
                    System.load(copy.toString());
                    return loaded(copy.toString(), lines, what + ": extracted to and loaded from " + copy
                            + (scratch == null ? "" : " (a private directory, because "
                                    + request.extractionBase().resolve(cacheDirectoryName())
                                    + " is not a directory of this user's that only it may write to;"
                                    + " the copy is deleted once loaded)"));
                } catch (IllegalCallerException e) {
                    return nativeAccessDenied(fileName, e);
                } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
                    String where = copy == null ? "extracting " + url : "loading the extracted copy " + copy;
                    lines.add(what + ": " + where + ": " + e
                            + " (if " + request.extractionBase() + " is mounted noexec or not writable, set -D"
                            + TMPDIR_PROPERTY + "=<a directory that is>)");
                    errors.add(e);
                } finally {
                    if (scratch != null) {
                        // A mapped library may be unlinked on Linux; where the OS refuses, at exit.
                        deleteNow(copy);
                        deleteNow(scratch);
                    }
                }
            }
        }

        // 3. java.library.path.
        try {
            System.loadLibrary(request.libraryName());
            return loaded("java.library.path", lines,
                    "System.loadLibrary(\"" + request.libraryName() + "\"): loaded from java.library.path");
        } catch (IllegalCallerException e) {
            return nativeAccessDenied(fileName, e);
        } catch (UnsatisfiedLinkError | SecurityException e) {
            lines.add("System.loadLibrary(\"" + request.libraryName() + "\"): " + e.getMessage());
            errors.add(e);
        }

        StringBuilder sb = new StringBuilder(header(fileName)).append(". Attempts:");
        for (int i = 0; i < lines.size(); i++) {
            sb.append("\n  ").append(i + 1).append(". ").append(lines.get(i));
        }
        return new Outcome(null, sb.toString(), errors);
    }

    private static String header(String fileName) {
        return "Forkless native library " + fileName + " could not be loaded (os.name="
                + System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch")
                + ", java.version=" + System.getProperty("java.version") + ")";
    }

    /**
     * The library named by {@value #PATH_PROPERTY}, and nothing else: a setting the user gave that
     * cannot be honoured is an error, never a reason to load some other copy.
     */
    private static Outcome explicit(Request request, String fileName) {
        String what = "system property " + PATH_PROPERTY + "=" + request.explicitPath();
        String why;
        Throwable error = null;
        Path p = null;
        try {
            p = Path.of(request.explicitPath()).toAbsolutePath();
        } catch (InvalidPathException e) {
            error = e;
        }
        if (p == null) {
            why = "not a valid path: " + error.getMessage();
        } else if (!Files.exists(p)) {
            why = "no such file: " + p;
        } else if (!Files.isRegularFile(p)) {
            why = "not a regular file: " + p;
        } else {
            try {
                System.load(p.toString());
                return loaded(p.toString(), List.of(), what + ": loaded " + p);
            } catch (IllegalCallerException e) {
                return nativeAccessDenied(fileName, e);
            } catch (UnsatisfiedLinkError | SecurityException e) {
                why = "not a loadable library: " + e.getMessage();
                error = e;
            }
        }
        String message = header(fileName) + ": " + what + ": " + why + ". The bundled library and"
                + " java.library.path are not tried while " + PATH_PROPERTY + " is set; fix the path or"
                + " remove the property.";
        return new Outcome(null, message, error == null ? List.of() : List.of(error));
    }

    /**
     * JDK 24+ with {@code --illegal-native-access=deny} (JEP 472): no place can work, so the ladder
     * stops here and the message names the option that allows this module to load the library.
     */
    private static Outcome nativeAccessDenied(String fileName, IllegalCallerException e) {
        Module m = NativeLoader.class.getModule();
        String flag = "--enable-native-access=" + (m.isNamed() ? m.getName() : "ALL-UNNAMED");
        String who = m.isNamed() ? "module " + m.getName() : "the class path (the unnamed module)";
        String message = header(fileName) + ": this JVM denies native access to " + who
                + " (--illegal-native-access=deny, or a future JDK's default): add " + flag
                + " to the java command line (for an executable jar, the manifest attribute"
                + " Enable-Native-Access: ALL-UNNAMED does it). " + e.getMessage();
        return new Outcome(null, message, List.of(e));
    }

    private static void deleteNow(Path p) {
        if (p == null) {
            return;
        }
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            p.toFile().deleteOnExit();
        }
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
        String os = keep(osName.toLowerCase(Locale.ROOT), "", null);
        String arch = keep(osArch.toLowerCase(Locale.ROOT), "_", null);
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
     * of that name and the resource's size is already there, and returns the file. The hash is
     * read from the resource {@code <resource>.sha256} (written by the build, 64 hex digits) when
     * there is one, else computed from the content. Safe against other threads and JVMs doing the
     * same at the same time: the content is written to a temporary file in {@code directory} and
     * renamed over the final name atomically.
     *
     * <p>A copy is trusted by its name and size alone: {@code directory} must be private to this
     * user, so only this user's JVMs write there, and each of them only renames complete copies
     * into place.
     *
     * @param resource a library file, usually a {@code jar:} URL
     * @param directory an existing directory private to this user
     * @return the extracted file
     * @throws IOException if reading or writing fails
     */
    public static Path extract(URL resource, Path directory) throws IOException {
        String name = resource.getPath();
        name = name.substring(name.lastIndexOf('/') + 1);
        int dot = name.indexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : "";

        byte[] bytes = null;
        long size;
        String hash = buildTimeHash(resource);
        if (hash == null) {
            bytes = readAll(resource);
            hash = sha256(bytes);
            size = bytes.length;
        } else {
            size = resource.openConnection().getContentLengthLong();
        }
        Path target = directory.resolve(stem + "-" + hash + ext);
        if (size >= 0 && Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            try {
                if (Files.size(target) == size) {
                    return target;
                }
            } catch (IOException vanished) {
                // Written below.
            }
        }
        if (bytes == null) {
            bytes = readAll(resource);
        }
        Path tmp = createUnique(directory, "." + stem + "-", ".tmp", false);
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
     * A new file or directory (owner-only where POSIX) {@code <prefix><random><suffix>} in
     * {@code dir}. Not {@link Files#createTempFile}: its {@code SecureRandom} costs a fresh JVM
     * tens of ms of security-provider start-up, and these names need to be unique, not secret
     * (creation is exclusive and never follows a symbolic link; a taken name is retried).
     */
    private static Path createUnique(Path dir, String prefix, String suffix, boolean directory) throws IOException {
        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve(prefix + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + suffix);
            try {
                if (directory) {
                    return posix ? Files.createDirectory(p, PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------"))) : Files.createDirectory(p);
                }
                return posix ? Files.createFile(p, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------"))) : Files.createFile(p);
            } catch (FileAlreadyExistsException taken) {
                if (attempt >= 100) {
                    throw taken;
                }
            }
        }
    }

    private static byte[] readAll(URL resource) throws IOException {
        try (InputStream in = resource.openStream()) {
            return in.readAllBytes();
        }
    }

    /** The hash the build stored next to the library, or null if there is none or it is malformed. */
    private static String buildTimeHash(URL resource) {
        try (InputStream in = URI.create(resource.toExternalForm() + ".sha256").toURL().openStream()) {
            String s = new String(in.readNBytes(200), StandardCharsets.US_ASCII).trim();
            return isSha256Hex(s) ? s : null;
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * {@code s} with every character that is not an ASCII letter, digit or one of {@code extra}
     * dropped ({@code replacement} null) or replaced. Not a regular expression: the first one in a
     * JVM costs milliseconds of class loading, on every start.
     */
    private static String keep(String s, String extra, Character replacement) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || extra.indexOf(c) >= 0) {
                sb.append(c);
            } else if (replacement != null) {
                sb.append(replacement.charValue());
            }
        }
        return sb.toString();
    }

    private static boolean isSha256Hex(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static String cacheDirectoryName() {
        return "forkless-" + keep(System.getProperty("user.name", "user"), "._-", '_');
    }

    /**
     * The directory libraries from jars are extracted to and kept in across runs:
     * {@code <base>/forkless-<user>}, created owner-only. Null if it exists but is not a real
     * directory (a symbolic link is not followed) of this user that only this user may write to;
     * the caller then extracts into a private temporary directory and deletes it after loading.
     */
    private static Path cacheDirectory(Path base) throws IOException {
        Files.createDirectories(base);
        String dirName = cacheDirectoryName();
        String user = dirName.substring("forkless-".length());
        Path dir = base.resolve(dirName);
        // Not Files.getFileStore(base): on Linux that parses the mount table, a few ms per start.
        boolean posix = base.getFileSystem().supportedFileAttributeViews().contains("posix");
        if (!posix) {
            Files.createDirectories(dir);
            return dir;
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException exists) {
            // Checked below.
        }
        return isPrivate(dir, user) ? dir : null;
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
