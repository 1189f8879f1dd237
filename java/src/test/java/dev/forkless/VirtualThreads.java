package dev.forkless;

import org.junit.jupiter.api.Assumptions;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Virtual threads for tests that compile with release 17 and run on JDK 21+ too (the jdk25
 * Surefire run): {@code Thread.ofVirtual()} is reached reflectively, and a test on an older JDK
 * is skipped with the reason.
 */
final class VirtualThreads {
    private final Object builder;
    private final MethodHandle start;
    private final MethodHandle isVirtual;

    private VirtualThreads() throws Throwable {
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        Class<?> builderClass = Class.forName("java.lang.Thread$Builder");
        Class<?> ofVirtualClass = Class.forName("java.lang.Thread$Builder$OfVirtual");
        builder = lookup.findStatic(Thread.class, "ofVirtual", MethodType.methodType(ofVirtualClass)).invoke();
        start = lookup.findVirtual(builderClass, "start", MethodType.methodType(Thread.class, Runnable.class));
        isVirtual = lookup.findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
    }

    /** The factory; skips the calling test before JDK 21. */
    static VirtualThreads orSkip() throws Throwable {
        Assumptions.assumeTrue(Runtime.version().feature() >= 21, "virtual threads need JDK 21+");
        return new VirtualThreads();
    }

    /** Starts {@code task} in a new virtual thread. */
    Thread start(Runnable task) throws Throwable {
        return (Thread) start.invoke(builder, task);
    }

    /** Whether the calling thread is virtual. */
    boolean inVirtualThread() throws Throwable {
        return (boolean) isVirtual.invoke(Thread.currentThread());
    }
}
