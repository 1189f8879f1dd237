package dev.forkless.internal;

import java.lang.ref.Cleaner;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Safety nets for Forkless objects that own a native resource (a child's handle, a descriptor)
 * and are dropped without {@code close()}: like {@link Cleaner}, but run by the reactor thread
 * rather than by a thread of their own, so that Forkless adds exactly one thread to the JVM.
 *
 * <p>The reactor thread calls {@link #runPending()} after every batch of exits and at least every
 * {@value Reactor#CLEANUP_MILLIS} ms, so an unreachable object is cleaned up within about that
 * long after the garbage collector finds it. Registering starts the reactor. If the reactor cannot
 * start (no epoll: the process is out of descriptors), the registration still counts and its
 * action runs once a later registration starts it.
 *
 * <p>Actions must be quick, must never block, and must never refer to the object they clean up
 * after (it would then never become unreachable).
 */
public final class Cleaners {
    private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<>();
    /** Keeps every registration reachable until it has run (a PhantomReference must be). */
    private static final Set<Ref> PENDING = ConcurrentHashMap.newKeySet();

    private Cleaners() {
    }

    /**
     * Runs {@code action} once, when {@code obj} becomes phantom reachable or when the returned
     * cleanable's {@code clean()} is called, whichever comes first.
     *
     * @param obj the object to watch
     * @param action what to run; must not refer to {@code obj}
     * @return the registration
     */
    public static Cleaner.Cleanable register(Object obj, Runnable action) {
        Ref ref = new Ref(obj, action);
        PENDING.add(ref);
        Reactor.startForCleanup();
        return ref;
    }

    /** Runs the action of every object found unreachable so far. Called by the reactor thread. */
    static void runPending() {
        Reference<?> r;
        while ((r = QUEUE.poll()) != null) {
            try {
                ((Ref) r).clean();
            } catch (Throwable t) {
                System.getLogger("dev.forkless").log(System.Logger.Level.ERROR,
                        "forkless: a cleanup action failed", t);
            }
        }
    }

    private static final class Ref extends PhantomReference<Object> implements Cleaner.Cleanable {
        private final Runnable action;

        Ref(Object obj, Runnable action) {
            super(obj, QUEUE);
            this.action = action;
        }

        @Override
        public void clean() {
            if (PENDING.remove(this)) {
                clear();
                action.run();
            }
        }
    }
}
