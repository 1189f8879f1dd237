package dev.forkless;

import dev.forkless.internal.Cgroups;
import dev.forkless.internal.NativeLoader;
import dev.forkless.internal.Reactor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * Facts about the Forkless library itself: whether its native part could be loaded on this
 * machine, and if not, why.
 *
 * <p>Nothing needs to be called here before using the rest of the API: the native library is
 * loaded on first use. A program that wants to fall back to {@link ProcessBuilder} on an
 * unsupported platform checks {@link #isAvailable()} first; a program that wants to explain a
 * failure logs {@link #unavailabilityCause()}.
 *
 * <p><b>System properties</b>, each read once (when the part it controls starts), all unset by
 * default:
 * <ul>
 *   <li>{@code forkless.library.path}: the path of a {@code libforkless_jni} file to load
 *       instead of the bundled one. When set, it is the only place tried: a path that does not
 *       exist or does not load makes Forkless unavailable, with a cause naming the property, the
 *       path and the reason. Default: none; the copy inside the jar, then
 *       {@code java.library.path}.</li>
 *   <li>{@code forkless.tmpdir}: where the library inside the jar is extracted to, into the
 *       subdirectory {@code forkless-<user>} (mode 0700), reused across runs; if that exists but
 *       is not this user's own private directory, into a new private directory that is deleted
 *       again once the library is loaded. Default {@code java.io.tmpdir}. Set it when the
 *       temporary directory is mounted {@code noexec}.</li>
 *   <li>{@code forkless.reactor}: the mechanism of the thread that watches every child's exit,
 *       {@code epoll}, {@code io_uring} or {@code auto}. Default {@code auto}: io_uring where the
 *       kernel allows it, else epoll. See {@link #reactorBackend()}.</li>
 *   <li>{@code forkless.cgroup}: a cgroup v2 directory this JVM may create cgroups in (a
 *       delegated one), under which {@link TreeKill#CGROUP} and {@link TreeKill#AUTO} children get
 *       a leaf each. Default: this JVM's own cgroup. One that cannot be used is a {@code WARNING}
 *       at first use, with the reason; see {@link #cgroupDirectory()} and
 *       {@link #cgroupUnavailableReason()}.</li>
 *   <li>{@code forkless.leakDetection}: {@code true} records where each child is spawned (a
 *       stack walk per spawn) and reports, as a {@code WARNING} on the {@link System.Logger}
 *       {@code "dev.forkless"}, every {@link Child} that became unreachable without
 *       {@link Child#close()} and without anyone having observed its exit; the report names the
 *       pid, the program and the spawning stack. Default {@code false}.</li>
 * </ul>
 * Loading is attempted once per JVM (per class loader); the outcome, failure included, is kept.
 */
public final class Forkless {
    private Forkless() {
    }

    /**
     * Whether the native library is loaded, loading it if that was not tried yet. Never throws.
     * Thread-safe; the first call may take a few milliseconds (the library may be extracted from
     * the jar), later calls are a field read.
     *
     * <p>On JDK 24 and later, a JVM started with {@code --illegal-native-access=deny} (announced
     * as a future default) refuses to load the library unless native access is enabled for
     * Forkless: this method then answers {@code false}, and {@link #unavailabilityCause()} (and
     * every spawn's {@link UnsatisfiedLinkError}) names the option to add,
     * {@code --enable-native-access=dev.forkless} on the module path or
     * {@code --enable-native-access=ALL-UNNAMED} on the class path.
     *
     * @return true if spawning through Forkless can work on this machine
     */
    public static boolean isAvailable() {
        return NativeLoader.load();
    }

    /**
     * Why the native library could not be loaded, loading it if that was not tried yet.
     *
     * <p>The cause is an {@link UnsatisfiedLinkError} whose message lists every place that was
     * tried and why each failed, for example:
     * <pre>
     * Forkless native library libforkless_jni.so could not be loaded (os.name=Linux, os.arch=amd64, ...). Attempts:
     *   1. system property forkless.library.path: not set
     *   2. class-path resource /META-INF/native/linux-x86_64/libforkless_jni.so: not found
     *   3. System.loadLibrary("forkless_jni"): no forkless_jni in java.library.path: /usr/java/packages/lib:...
     * </pre>
     * The error of the first attempt that threw is its cause; those of later attempts are
     * suppressed exceptions. Two failures stop the search and say so alone: a
     * {@code forkless.library.path} that names no loadable library ({@code ... system property
     * forkless.library.path=/nope.so: no such file: /nope.so. The bundled library and
     * java.library.path are not tried while forkless.library.path is set ...}), and native access
     * denied by JDK 24+ (the message names the {@code --enable-native-access} option to add; the
     * cause is the JDK's {@link IllegalCallerException}). Each call returns a new
     * instance, so callers may throw it or add to it freely.
     *
     * @return empty if the library is loaded, else the cause
     */
    public static Optional<Throwable> unavailabilityCause() {
        return NativeLoader.failure().map(e -> e);
    }

    /**
     * Where the native library was loaded from, loading it if that was not tried yet.
     *
     * @return the absolute path of the loaded file (inside the extraction directory when it came
     *     from the jar), or {@code "java.library.path"} when {@code System.loadLibrary} found it;
     *     empty if it is not loaded
     */
    public static Optional<String> nativeLibraryLocation() {
        return NativeLoader.location();
    }

    /**
     * The version of this library, such as {@code 0.1.0}.
     *
     * @return the version from the module descriptor (on the module path), else from the Maven
     *     metadata inside the jar, else from the jar manifest; empty when running from unpackaged
     *     classes
     */
    public static Optional<String> version() {
        Optional<String> v = Optional.ofNullable(Forkless.class.getModule().getDescriptor())
                .flatMap(ModuleDescriptor::rawVersion);
        if (v.isPresent()) {
            return v;
        }
        try (InputStream in = Forkless.class.getResourceAsStream(POM_PROPERTIES)) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String s = p.getProperty("version");
                if (s != null && !s.isBlank()) {
                    return Optional.of(s);
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            // Unreadable metadata: try the manifest.
        }
        return Optional.ofNullable(Forkless.class.getPackage().getImplementationVersion());
    }

    /**
     * The mechanism of the reactor: the one daemon thread ({@code forkless-reactor}) that learns
     * of every Forkless child's exit, reaps it, and completes its waits and {@link Child#onExit()}
     * futures. Starts the reactor if no child has been spawned yet.
     *
     * <p>Chosen by the system property {@code forkless.reactor}: {@code epoll}, {@code io_uring},
     * or {@code auto} / unset (the default: io_uring when the kernel allows it, else epoll). An
     * explicit choice that this kernel or its seccomp profile refuses (for example io_uring with
     * {@code kernel.io_uring_disabled} set, or in a container whose profile denies it) falls back
     * to epoll and logs a {@code WARNING} on the {@link System.Logger} {@code "dev.forkless"},
     * such as {@code forkless.reactor=io_uring unavailable: io_uring_setup: Operation not permitted
     * (EPERM); using epoll}. An unknown value is logged the same way and means {@code auto}.
     *
     * @return {@code "epoll"} or {@code "io_uring"}
     * @throws java.io.UncheckedIOException if no reactor can be started (e.g. {@code EMFILE})
     * @throws UnsatisfiedLinkError if the native library cannot be loaded
     */
    public static String reactorBackend() {
        NativeLoader.ensureLoaded();
        return Reactor.backendName();
    }

    /**
     * Where this JVM makes the cgroups of children spawned with {@link TreeKill#CGROUP} or
     * {@link TreeKill#AUTO}: {@code <base>/forkless-<pid>-<random>}, created on the first call (of
     * this method or such a spawn), under the cgroup v2 directory named by the system property
     * {@code forkless.cgroup}, else under this JVM's own cgroup. Empty when that is not possible
     * here; {@link #cgroupUnavailableReason()} then says why. A {@code forkless.cgroup} that cannot
     * be used is logged as a {@code WARNING} on the {@link System.Logger} {@code "dev.forkless"} by
     * this first use (without the property, the warning waits for the first {@link TreeKill#AUTO}
     * child that has to do without a cgroup). The directory stays claimed by this JVM (an
     * {@code flock}) for its life, so other JVMs, also in other PID namespaces, leave it alone.
     *
     * @return the directory, if cgroups can be had
     * @throws UnsatisfiedLinkError if the native library cannot be loaded
     */
    public static Optional<Path> cgroupDirectory() {
        NativeLoader.ensureLoaded();
        return Cgroups.directory();
    }

    /**
     * Why children cannot get cgroups of their own here, e.g. {@code "cannot create the cgroup
     * /sys/fs/cgroup/user.slice/.../forkless-4711-1a2b3c4d: EACCES (Permission denied); the cgroup
     * is not delegated to this user (set forkless.cgroup to one that is)"}, or {@code "this JVM is
     * in no cgroup v2 hierarchy ..."}. Also set when a spawn into such a cgroup was refused by the
     * kernel, after which {@link TreeKill#AUTO} uses process groups for the rest of the JVM's life.
     *
     * @return the reason, or empty when cgroups can be had
     * @throws UnsatisfiedLinkError if the native library cannot be loaded
     */
    public static Optional<String> cgroupUnavailableReason() {
        NativeLoader.ensureLoaded();
        return Cgroups.unavailableReason();
    }

    private static final String POM_PROPERTIES = "/META-INF/maven/dev.forkless/forkless/pom.properties";
}
