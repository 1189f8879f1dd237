package dev.forkless.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
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
 * pool of at most {@value #MAX_THREADS} daemon threads ({@value #THREAD_PREFIX}N) instead, with a
 * queue, each gone after {@value #IDLE_SECONDS} s idle. Bounded like the common pool, and for the
 * same reason: a burst of exits (500 collected outputs completing at once) would otherwise start
 * a thread per completion in flight (measured: 9-10 for 500 children, up to 28 after 1,000
 * simultaneous kills). The price is the common pool's too: callbacks that block hold a thread
 * each, and with all of them blocked the next completions wait.
 */
public final class Callbacks {
    static final String THREAD_PREFIX = "forkless-callback-";
    static final int IDLE_SECONDS = 30;
    static final int MAX_THREADS = 4;

    /** The default executor of {@code Child.onExit()}. */
    public static final Executor EXECUTOR = ForkJoinPool.getCommonPoolParallelism() > 1
            ? ForkJoinPool.commonPool() : cachedDaemonPool();

    private Callbacks() {
    }

    private static Executor cachedDaemonPool() {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(MAX_THREADS, MAX_THREADS, IDLE_SECONDS,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, THREAD_PREFIX + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
