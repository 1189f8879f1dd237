package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.ref.WeakReference;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Command.killOnUnreachable: what happens to a running child whose Child is collected unclosed. */
@ExtendWith(LeakCheck.class)
class KillOnUnreachableTest {

    private static long spawnAndDrop(Command cmd, WeakReference<?>[] ref) throws Exception {
        Child c = cmd.spawn();
        ref[0] = new WeakReference<>(c);
        return c.pid();
    }

    private static void collect(WeakReference<?>[] ref) {
        assertTrue(Procs.eventually(Duration.ofSeconds(20), () -> {
            System.gc();
            return ref[0].get() == null;
        }), "the Child was not collected");
    }

    private static boolean running(long pid) {
        Procs.Stat st = Procs.stat(pid);
        return st != null && st.state() != 'Z';
    }

    @Test
    void killedAndReapedWhenCollected() throws Exception {
        WeakReference<?>[] ref = new WeakReference<?>[1];
        long pid = spawnAndDrop(Command.of("/bin/sleep", "100").killOnUnreachable(true), ref);
        assertTrue(running(pid));
        collect(ref);
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> Procs.gone(pid)),
                "not killed and reaped: " + Procs.stat(pid));
    }

    @Test
    void byDefaultItRunsOn() throws Exception {
        WeakReference<?>[] ref = new WeakReference<?>[1];
        long pid = spawnAndDrop(Command.of("/bin/sleep", "100"), ref);
        try {
            collect(ref);
            Thread.sleep(300); // the cleaner has run by now, or soon; it must not kill
            assertTrue(running(pid), "killed although killOnUnreachable is off: " + Procs.stat(pid));
        } finally {
            // Our own unreaped child: its pid cannot have been reused, so killing by pid is safe.
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> Procs.gone(pid)),
                "the reactor did not reap it: " + Procs.stat(pid));
    }

    @Test
    void anExplicitCloseNeverTriggersIt() throws Exception {
        long pid;
        try (Child c = Command.of("/bin/sleep", "0.3").killOnUnreachable(true)
                .onClose(CloseAction.LEAVE_RUNNING).spawn()) {
            pid = c.pid();
        }
        System.gc();
        Thread.sleep(100);
        assertTrue(running(pid), "close(LEAVE_RUNNING) must leave it running: " + Procs.stat(pid));
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> Procs.gone(pid)));
    }

    @Test
    void toStringShowsIt() {
        assertTrue(Command.of("x").killOnUnreachable(true).toString().endsWith("; killOnUnreachable]"),
                Command.of("x").killOnUnreachable(true).toString());
    }
}
