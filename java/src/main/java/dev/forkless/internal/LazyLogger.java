package dev.forkless.internal;

import java.util.ResourceBundle;

/**
 * The {@link System.Logger} {@code "dev.forkless"}, looked up on its first use rather than when a
 * class that may log is initialized. The first {@link System#getLogger} of a JVM starts the
 * logging back end ({@code java.util.logging}'s {@code LogManager}, its configuration), which cost
 * 25 to 95 ms in a fresh JVM on the benchmark machine: paid by the first spawn, although a spawn
 * that goes well logs nothing.
 */
public final class LazyLogger implements System.Logger {
    /** The one instance; use it where {@code System.getLogger("dev.forkless")} would be kept. */
    public static final System.Logger FORKLESS = new LazyLogger();

    private LazyLogger() {
    }

    private static final class Holder {
        static final System.Logger LOGGER = System.getLogger("dev.forkless");
    }

    @Override
    public String getName() {
        return "dev.forkless";
    }

    @Override
    public boolean isLoggable(Level level) {
        return Holder.LOGGER.isLoggable(level);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
        Holder.LOGGER.log(level, bundle, msg, thrown);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        Holder.LOGGER.log(level, bundle, format, params);
    }
}
