package dev.forkless;

import dev.forkless.internal.LeakReports;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * forkless.leakDetection: a Child dropped without close() and without anyone observing its exit is
 * reported with where it was spawned; a closed or observed one is not. Reports are captured
 * through the test seam, which also turns detection on for children spawned while it is set.
 */
@ExtendWith(LeakCheck.class)
class LeakDetectionTest {
    private final Queue<String> reports = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void captureReports() {
        LeakReports.setSinkForTests(reports::add);
    }

    @AfterEach
    void restore() {
        LeakReports.setSinkForTests(null);
    }

    private static void collect(List<WeakReference<?>> refs) {
        assertTrue(Procs.eventually(Duration.ofSeconds(20), () -> {
            System.gc();
            return refs.stream().allMatch(r -> r.get() == null);
        }), "not collected");
    }

    private static long dropUnobserved(List<WeakReference<?>> refs) throws Exception {
        Child c = Command.of("/bin/sleep", "0.1").spawn();
        refs.add(new WeakReference<>(c));
        return c.pid();
    }

    @Test
    void aDroppedUnobservedChildIsReportedWithItsSpawningMethod() throws Exception {
        List<WeakReference<?>> refs = new ArrayList<>();
        long pid = dropUnobserved(refs);
        collect(refs);
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> !reports.isEmpty()), "no report");
        String report = reports.peek();
        assertTrue(report.contains("pid " + pid), report);
        assertTrue(report.contains("'/bin/sleep'"), report);
        assertTrue(report.contains("aDroppedUnobservedChildIsReportedWithItsSpawningMethod"), report);
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> Procs.gone(pid)), "reaped after all");
    }

    private static void dropObserved(List<WeakReference<?>> refs) throws Exception {
        try (Child closed = Command.of("/bin/sleep", "0.1").spawn()) {
            refs.add(new WeakReference<>(closed));
        }
        try (Child closedRunning = Command.of("/bin/sleep", "0.1").onClose(CloseAction.LEAVE_RUNNING).spawn()) {
            refs.add(new WeakReference<>(closedRunning));
        }
        Child waited = Command.of("/bin/true").spawn();
        waited.waitFor();
        refs.add(new WeakReference<>(waited));
        Child polled = Command.of("/bin/true").spawn();
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> polled.tryWait().isPresent()));
        refs.add(new WeakReference<>(polled));
        Child alive = Command.of("/bin/true").spawn();
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> !alive.isAlive()));
        refs.add(new WeakReference<>(alive));
        Child watched = Command.of("/bin/sleep", "0.1").spawn();
        watched.onExit();
        refs.add(new WeakReference<>(watched));
    }

    @Test
    void closedOrObservedChildrenAreNotReported() throws Exception {
        List<WeakReference<?>> refs = new ArrayList<>();
        dropObserved(refs);
        collect(refs);
        // The cleaner runs after the references are cleared; the control child below is spawned
        // and dropped last, so once its report is in, every earlier action has run too (one
        // cleaner thread, actions in the order the collector found them, which is not guaranteed:
        // hence the extra settle time).
        List<WeakReference<?>> control = new ArrayList<>();
        long pid = dropUnobserved(control);
        collect(control);
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> !reports.isEmpty()), "no report at all");
        Thread.sleep(200);
        assertTrue(reports.size() == 1 && reports.peek().contains("pid " + pid), "reports: " + reports);
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> Procs.gone(pid)));
    }
}
