package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many spawns with a random fate each, from several threads at once, then: no zombie, no child, no
 * pidfd or pipe left. The count is {@code forkless.soak.count} (default 2,000, what CI runs on
 * every build); {@code ci/soak.sh} runs it with 100,000.
 *
 * <p>Fates: wait for it; kill it, then wait; close it while it runs (default close action: kill);
 * watch it through {@code onExit()} only; drop it without any of these (only the Cleaner and the
 * reactor are left to clean up); leave it running on close ({@code LEAVE_RUNNING}); poll it with
 * {@code tryWait()} until it is gone; with a piped stdout: {@code output()}, {@code outputAsync()},
 * {@code onStdoutLine}, or dropped with the pipe unread. A quarter of the non-pipe ones get a
 * cgroup of their own ({@link TreeKill#AUTO}), and their leaves must be gone at the end too. Children are {@code /bin/true} or a short {@code sleep}, so
 * some exit before anyone looks and some are still running when they are killed or dropped.
 */
@ExtendWith(LeakCheck.class)
class SoakTest {
    private static final int COUNT = Integer.getInteger("forkless.soak.count", 2_000);
    private static final int THREADS = 4;
    private static final int IN_FLIGHT_PER_THREAD = 16;

    private final AtomicLong exited = new AtomicLong();
    private final AtomicLong killed = new AtomicLong();

    @Test
    void randomFatesLeaveNothingBehind() throws Exception {
        Set<String> fdsBefore = LeakCheck.suspiciousNow();
        Set<Long> childrenBefore = childPids();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int share = COUNT / THREADS + (t < COUNT % THREADS ? 1 : 0);
                long seed = 0x5eed + t;
                workers.add(pool.submit(() -> {
                    run(share, new SplittableRandom(seed));
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                w.get(30, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }

        // Dropped children are only let go by the Cleaner: collect until they all are. The
        // reactor reaped each one when it exited, so none of them may still be a zombie.
        boolean clean = Procs.eventually(Duration.ofSeconds(30), () -> {
            System.gc();
            return newChildren(childrenBefore).isEmpty() && newFds(fdsBefore).isEmpty()
                    && cgroupLeaves().isEmpty();
        });
        assertTrue(clean, "left behind: children " + newChildren(childrenBefore) + ", descriptors "
                + newFds(fdsBefore) + ", cgroups " + cgroupLeaves());
        long seen = exited.get() + killed.get();
        assertTrue(seen > 0, "no exit observed at all");
        System.out.printf("soak: %,d spawns in %.1f s (%,d exits and %,d kills observed), nothing left%n",
                COUNT, (System.nanoTime() - start) / 1e9, exited.get(), killed.get());
    }

    /**
     * The cgroup leaves of this JVM (every child is gone at the end, so they must go too). The
     * {@code die} directory of dieWithParent leaves lives as long as the JVM once an earlier test
     * in this JVM made it (its watchdog watches it): the leaves in it count, not it.
     */
    private static List<java.nio.file.Path> cgroupLeaves() {
        Optional<java.nio.file.Path> dir = Forkless.cgroupDirectory();
        if (dir.isEmpty()) {
            return List.of();
        }
        List<java.nio.file.Path> leaves = new ArrayList<>();
        for (java.nio.file.Path p : directories(dir.get())) {
            if (p.getFileName().toString().equals("die")) {
                leaves.addAll(directories(p));
            } else {
                leaves.add(p);
            }
        }
        return leaves;
    }

    private static List<java.nio.file.Path> directories(java.nio.file.Path dir) {
        try (var s = java.nio.file.Files.list(dir)) {
            return s.filter(java.nio.file.Files::isDirectory).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void run(int count, SplittableRandom rnd) throws Exception {
        Semaphore slots = new Semaphore(IN_FLIGHT_PER_THREAD);
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            slots.acquire();
            Command cmd = rnd.nextInt(3) == 0
                    ? Command.of("/bin/true")
                    : Command.of("/bin/sleep").arg(rnd.nextInt(4) == 0 ? "0.05" : "0.001");
            int fate = rnd.nextInt(11);
            if (fate >= 7) {
                pipeFate(fate, Command.of("/bin/echo", "soak"), slots, pending);
                continue;
            }
            if (fate == 5) {
                cmd = cmd.onClose(CloseAction.LEAVE_RUNNING);
            }
            if (rnd.nextInt(4) == 0) {
                cmd = cmd.treeKill(TreeKill.AUTO); // a cgroup leaf of its own, where there are cgroups
            }
            Child c = cmd.stdout(Stdio.nul()).spawn();
            switch (fate) {
                case 0 -> {
                    record(c.waitFor());
                    c.close();
                    slots.release();
                }
                case 1 -> {
                    c.kill(Signal.KILL);
                    record(c.waitFor());
                    c.close();
                    slots.release();
                }
                case 2 -> {
                    c.close(); // kills it if it still runs
                    slots.release();
                }
                case 3 -> pending.add(c.onExit().whenComplete((st, err) -> {
                    if (st != null) {
                        record(st);
                    }
                    slots.release();
                }));
                case 4, 5 -> {
                    if (fate == 5) {
                        c.close();
                    }
                    slots.release(); // dropped: nobody looks at it again
                }
                case 6 -> {
                    Optional<ExitStatus> st;
                    while ((st = c.tryWait()).isEmpty()) {
                        Thread.onSpinWait();
                        Thread.sleep(0, 200_000);
                    }
                    record(st.get());
                    c.close();
                    slots.release();
                }
                default -> throw new AssertionError(fate);
            }
        }
        for (CompletableFuture<?> f : pending) {
            f.get(1, TimeUnit.MINUTES);
        }
        assertEquals(IN_FLIGHT_PER_THREAD, slots.availablePermits(), "a slot was never released");
    }

    /** Fates with pipes: collected in this thread, on the reactor, by lines, or dropped unread. */
    private void pipeFate(int fate, Command echo, Semaphore slots, List<CompletableFuture<?>> pending)
            throws Exception {
        switch (fate) {
            case 7 -> {
                Output out = echo.output();
                assertEquals("soak\n", out.stdoutText());
                record(out.status());
                slots.release();
            }
            case 8 -> pending.add(echo.outputAsync().whenComplete((out, err) -> {
                if (out != null) {
                    record(out.status());
                }
                slots.release();
            }));
            case 9 -> {
                echo.stdout(Stdio.piped()).spawn(); // dropped with its pipe unread
                slots.release();
            }
            case 10 -> {
                Child c = echo.stdout(Stdio.piped()).spawn();
                pending.add(c.onStdoutLine(line -> { }).thenCompose(v -> c.onExit()).whenComplete((st, err) -> {
                    if (st != null) {
                        record(st);
                    }
                    c.close();
                    slots.release();
                }));
            }
            default -> throw new AssertionError(fate);
        }
    }

    private static Set<Long> childPids() {
        Set<Long> pids = new HashSet<>();
        Procs.children().forEach(c -> pids.add(c.pid()));
        return pids;
    }

    /** Children that were not there before, and every zombie. */
    private static List<Procs.Stat> newChildren(Set<Long> before) {
        List<Procs.Stat> out = new ArrayList<>();
        for (Procs.Stat c : Procs.children()) {
            if (c.state() == 'Z' || !before.contains(c.pid())) {
                out.add(c);
            }
        }
        return out;
    }

    private static Set<String> newFds(Set<String> before) {
        Set<String> now = LeakCheck.suspiciousNow();
        now.removeAll(before);
        return now;
    }

    private void record(ExitStatus st) {
        if (st.signalNumber().isPresent()) {
            killed.incrementAndGet();
        } else {
            exited.incrementAndGet();
        }
    }
}
