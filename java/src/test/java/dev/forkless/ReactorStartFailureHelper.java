package dev.forkless;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * A child JVM for ReactorStartFailureTest, run under a small {@code RLIMIT_NPROC}: it starts
 * threads until the kernel refuses one, so the reactor thread cannot start either, then tries to
 * spawn {@code ATTEMPTS} times. Prints one line per attempt ({@code PSE <step> <errno name>} or
 * {@code OTHER <throwable>} or {@code spawned}), then {@code fds <before> <after>} (this JVM's open
 * descriptors around the attempts), {@code children <n>} (its children, zombies included), and,
 * once the threads are given back, {@code then <status>} from a spawn that must now work.
 */
public final class ReactorStartFailureHelper {
    static final int ATTEMPTS = 20;

    private ReactorStartFailureHelper() {
    }

    private static long fds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    public static void main(String[] args) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> fillers = new ArrayList<>();
        for (;;) {
            Thread t = new Thread(null, () -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "filler-" + fillers.size(), 64 * 1024);
            try {
                t.start();
            } catch (OutOfMemoryError refused) {
                break; // the limit is reached: no thread can start now
            }
            fillers.add(t);
            if (fillers.size() > 5000) {
                System.out.println("no limit");
                System.exit(2);
            }
        }
        System.out.println("fillers " + fillers.size());
        // Loaded before the count: from a jar, the first use of the library's classes opens the
        // jar file (the class loader keeps it open), which is no leak of a spawn attempt.
        if (!dev.forkless.Forkless.isAvailable()) {
            throw new IllegalStateException("no native library", dev.forkless.Forkless.unavailabilityCause().orElse(null));
        }
        long before = fds();
        for (int i = 0; i < ATTEMPTS; i++) {
            try {
                Command.of("/bin/true").spawn().close();
                System.out.println("spawned");
            } catch (ProcessStartException e) {
                System.out.println("PSE " + e.step() + " " + e.errnoName()
                        + (e.getCause() == null ? "" : " cause=" + e.getCause().getClass().getSimpleName()));
            } catch (Throwable e) {
                System.out.println("OTHER " + e);
            }
        }
        long after = fds();
        System.out.println("fds " + before + " " + after);
        System.out.println("children " + Procs.children().size());
        release.countDown();
        for (Thread t : fillers) {
            t.join();
        }
        // A thread that Java has seen end may still count against the limit for a moment.
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (;;) {
            try (Child c = Command.of("/bin/true").spawn()) {
                System.out.println("then " + c.waitFor());
                break;
            } catch (ProcessStartException e) {
                if (System.nanoTime() > deadline) {
                    System.out.println("then " + e);
                    break;
                }
                Thread.sleep(10);
            }
        }
        System.out.flush();
    }
}
