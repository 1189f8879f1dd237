package dev.forkless.internal;

import java.lang.ref.Cleaner;

/**
 * The one {@link Cleaner} (one daemon thread) shared by every Forkless object that owns a native
 * resource. Cleaning actions are safety nets for objects dropped without {@code close()}; they must
 * be quick and must never refer to the object they clean up after.
 */
public final class Cleaners {
    /** The shared cleaner. */
    public static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "forkless-cleaner");
        t.setDaemon(true);
        return t;
    });

    private Cleaners() {
    }
}
