package dev.forkless.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where {@code Child.onExit()} completes its futures by default: never on the reactor thread, so
 * a slow callback cannot delay other children's exits.
 *
 * <p>The common {@link ForkJoinPool} when it has at least two threads, as
 * {@link java.util.concurrent.CompletableFuture} itself chooses. With a parallelism of 1 (a
 * machine with two processors or fewer) {@code CompletableFuture} starts a new thread for every
 * task, which costs tens of microseconds per exit and a thread per concurrent exit; this uses a
 * cached pool of daemon threads ({@value #THREAD_PREFIX}N) instead: a thread per callback that is
 * running at the same moment, reused afterwards, gone after {@value #IDLE_SECONDS} s idle.
 */
public final class Callbacks {
    static final String THREAD_PREFIX = "forkless-callback-";
    static final int IDLE_SECONDS = 30;

    /** The default executor of {@code Child.onExit()}. */
    public static final Executor EXECUTOR = ForkJoinPool.getCommonPoolParallelism() > 1
            ? ForkJoinPool.commonPool() : cachedDaemonPool();

    private Callbacks() {
    }

    private static Executor cachedDaemonPool() {
        AtomicInteger n = new AtomicInteger();
        return new ThreadPoolExecutor(0, Integer.MAX_VALUE, IDLE_SECONDS, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, THREAD_PREFIX + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }
}
