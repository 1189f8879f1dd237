package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Children connected by kernel pipes: Pipeline and Stdio.from. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipelineTest {
    @TempDir
    Path tmp;

    @Test
    void threeStagesLikeAShell() throws Exception {
        Path f = tmp.resolve("f.txt");
        Files.writeString(f, "x1\ny\nx2\nz\nx3\n");
        try (Pipeline.Running p = Pipeline.of(Command.of("cat", f.toString()), Command.of("grep", "x"),
                Command.of("wc", "-l").stdout(Stdio.piped())).spawn()) {
            assertEquals("3", new String(p.last().stdout().readAllBytes(), StandardCharsets.US_ASCII).trim());
            PipelineStatus st = p.waitFor();
            assertEquals(3, st.statuses().size());
            assertTrue(st.success());
            assertEquals(st, p.onExit().get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void pipefailReportsTheRightmostFailure() throws Exception {
        try (Pipeline.Running p = Pipeline.of(Command.of("sh", "-c", "exit 3"), Command.of("sh", "-c", "cat; exit 4"),
                Command.of("cat").stdout(Stdio.nul())).spawn()) {
            PipelineStatus st = p.waitFor();
            assertFalse(st.success());
            assertEquals(4, st.pipefail().code().getAsInt());
            assertEquals(0, st.last().code().getAsInt());
        }
    }

    @Test
    void upstreamGetsSigpipeWhenDownstreamStops() throws Exception {
        try (Pipeline.Running p = Pipeline.of(Command.of("yes"), Command.of("head", "-n", "3").stdout(Stdio.piped()))
                .spawn()) {
            assertEquals("y\ny\ny\n", new String(p.last().stdout().readAllBytes(), StandardCharsets.US_ASCII));
            PipelineStatus st = p.waitFor();
            assertEquals(Signal.PIPE, st.statuses().get(0).signal().orElseThrow());
            assertEquals(Signal.PIPE, st.pipefail().signal().orElseThrow());
        }
    }

    @Test
    void aStageThatCannotStartLeavesNothing() {
        ProcessStartException e = assertThrows(ProcessStartException.class,
                () -> Pipeline.of(Command.of("sleep", "30"), Command.of("/nonexistent/x"), Command.of("cat")).spawn());
        assertTrue(e.getMessage().contains("/nonexistent/x"), e.getMessage());
        // LeakCheck: the sleep was killed and reaped, every pipe closed.
    }

    @Test
    void stagesMayNotSetTheConnectedStreams() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Pipeline.of(Command.of("a").stdout(Stdio.nul()), Command.of("b")));
        assertTrue(e.getMessage().contains("stage 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Pipeline.of(Command.of("a"), Command.of("b").stdin(Stdio.nul())));
        assertThrows(IllegalArgumentException.class, () -> Pipeline.of());
    }

    @Test
    void fromConnectsTwoChildrenDirectly() throws Exception {
        try (Child a = Command.of("printf", "b\\na\\nc\\n").stdout(Stdio.piped()).spawn();
             Child b = Command.of("sort").stdin(Stdio.from(a)).stdout(Stdio.piped()).spawn()) {
            assertEquals("a\nb\nc\n", new String(b.stdout().readAllBytes(), StandardCharsets.US_ASCII));
            IllegalStateException taken = assertThrows(IllegalStateException.class, a::stdout);
            assertTrue(taken.getMessage().contains("Stdio.from"), taken.getMessage());
            assertTrue(a.waitFor().success());
            assertTrue(b.waitFor().success());
        }
    }

    @Test
    void fromAFailedSpawnGivesThePipeBack() throws Exception {
        try (Child a = Command.of("printf", "kept").stdout(Stdio.piped()).spawn()) {
            assertThrows(ProcessStartException.class,
                    () -> Command.of("/nonexistent/y").stdin(Stdio.from(a)).spawn());
            assertEquals("kept", new String(a.stdout().readAllBytes(), StandardCharsets.US_ASCII));
            a.waitFor();
        }
    }

    @Test
    void fromNeedsAPipedStdout() throws IOException, InterruptedException {
        try (Child a = Command.of("true").spawn()) {
            assertThrows(IllegalStateException.class, () -> Command.of("cat").stdin(Stdio.from(a)).spawn());
            assertThrows(IllegalArgumentException.class, () -> Command.of("cat").stdout(Stdio.from(a)));
            a.waitFor();
        }
    }
}
