/**
 * Forkless: start, watch and stop child processes through a small native core.
 *
 * <p>Only {@code dev.forkless} is exported. {@code dev.forkless.internal} (the JNI methods, the
 * library loader, platform details) and {@code dev.forkless.tool} (the command-line front end) are
 * implementation and may change in any release.
 *
 * <p>The module loads a native library with {@link System#load}; on JDK 24 and later run it with
 * {@code --enable-native-access=dev.forkless} (or {@code ALL-UNNAMED} on the class path) to avoid
 * the restricted-method warning; under {@code --illegal-native-access=deny} it is required, and
 * without it {@code Forkless.isAvailable()} is false with a cause naming the option. The jar's manifest already says so for {@code java -jar}.
 */
module dev.forkless {
    // sun.misc.Signal, for Command.forwardSignals: the JDK has no public API to observe signals.
    requires jdk.unsupported;

    exports dev.forkless;
}
