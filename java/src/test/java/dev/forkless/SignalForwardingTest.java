package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A JVM that receives SIGTERM passes it on to the children that asked, before it exits. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SignalForwardingTest {
    @Test
    void sigtermOfTheJvmReachesTheChildBeforeTheJvmExits() throws Exception {
        try (Child jvm = Command.of(HelperMain.commandWithForkless(SignalForwardingHelper.class))
                .stdout(Stdio.piped()).spawn()) {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.stdout()));
            long shell = -1;
            String first = out.readLine();
            String second = out.readLine();
            // The shell's "ready" and the JVM's PID line may come in either order.
            for (String line : new String[] {first, second}) {
                if (!line.equals("ready")) {
                    shell = Long.parseLong(line.trim());
                }
            }
            try {
                assertTrue(jvm.kill(Signal.TERM));
                assertEquals("got-TERM", out.readLine(), "the child's trap ran");
                assertEquals(128 + 15, jvm.waitFor().code().getAsInt(), "the JVM then shut down as usual");
                long pid = shell;
                assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> {
                    Procs.Stat st = Procs.stat(pid);
                    return st == null || st.state() == 'Z';
                }), "the child is gone");
            } finally {
                if (shell > 0) {
                    ProcessHandle.of(shell).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
    }

    @Test
    void onlyTerminationSignalsCanBeForwarded() {
        assertThrows(IllegalArgumentException.class, () -> Command.of("x").forwardSignals(Signal.KILL));
        assertTrue(Command.of("x").forwardSignals(Signal.INT, Signal.TERM).toString().contains("forwardSignals[INT, TERM]"));
    }
}
