package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Descriptor exhaustion: with this JVM's RLIMIT_NOFILE lowered (by {@code prlimit --pid}, run
 * through Forkless) and every descriptor in use, a spawn fails with EMFILE and leaks nothing.
 *
 * <p>While the limit is low, the JVM cannot open class files either, so the test only records what
 * happens and asserts after the limit is back; every class it needs is used once beforehand.
 */
@ExtendWith(LeakCheck.class)
class EmfileTest {
    @TempDir
    Path tmp;

    private static long softLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]);
            }
        }
        throw new AssertionError("no 'Max open files' in /proc/self/limits");
    }

    private static void prlimitSoft(long soft) throws Exception {
        try (Child c = Command.of("prlimit", "--pid", Long.toString(Procs.SELF), "--nofile=" + soft + ":")
                .stdin(Stdio.nul()).spawn()) {
            assertTrue(c.waitFor().success(), "prlimit failed");
        }
    }

    private static Object attempt(Command cmd) {
        try (Child c = cmd.spawn()) {
            return c.waitFor();
        } catch (Throwable t) {
            return t;
        }
    }

    @Test
    void spawnFailsWithEmfileAndLeaksNothing() throws Exception {
        long original = softLimit();
        Path out = tmp.resolve("out.txt");
        Command withNul = Command.of("/bin/true").stdin(Stdio.nul());
        Command withFile = Command.of("/bin/true").stdout(Stdio.file(out));
        Command plain = Command.of("/bin/true");
        // Warm up every path used below, so no class needs loading while descriptors are exhausted.
        assertTrue(attempt(withNul) instanceof ExitStatus);
        assertTrue(attempt(withFile) instanceof ExitStatus);
        assertTrue(attempt(Command.of("/nonexistent")) instanceof ProcessStartException);
        try {
            OwnedFd.open(tmp.resolve("missing"));
        } catch (FileSystemException expected) {
            // loads the exception classes
        }
        List<OwnedFd> fillers = new ArrayList<>();

        int highest = Collections.max(Procs.fds().keySet());
        long limit = highest + 24;
        Object failNul;
        Object failFile;
        Object failPlain;
        Object failWithOneFree;
        Object reopenAfterFailure;
        Object secondReopen;
        Object plainWithOneFree;
        IOException openError = null;
        prlimitSoft(limit);
        try {
            openError = fillUntilRefused(fillers);
            failNul = attempt(withNul);   // cannot open /dev/null
            failFile = attempt(withFile); // cannot open the file
            failPlain = attempt(plain);   // cannot get a pidfd
            // One free slot: /dev/null opens, then the pidfd cannot be had; /dev/null must be closed.
            fillers.remove(fillers.size() - 1).close();
            failWithOneFree = attempt(withNul);
            reopenAfterFailure = tryOpen();
            secondReopen = tryOpen();
            if (reopenAfterFailure instanceof OwnedFd) {
                ((OwnedFd) reopenAfterFailure).close();
            }
            if (secondReopen instanceof OwnedFd) {
                ((OwnedFd) secondReopen).close();
            }
            plainWithOneFree = attempt(plain); // the pidfd takes the one slot: works
        } finally {
            fillers.forEach(OwnedFd::close);
            prlimitSoft(original);
        }
        assertEquals(original, softLimit());

        assertNotNull(openError, "descriptors were never exhausted");
        assertTrue(openError.getMessage().endsWith("Too many open files (EMFILE)"), openError.getMessage());

        ProcessStartException e = (ProcessStartException) failNul;
        assertEquals("EMFILE", e.errnoName());
        assertEquals(24, e.errno());
        assertEquals(SpawnStep.STDIO, e.step());
        assertEquals("Cannot run program \"/bin/true\": error=24, Too many open files (EMFILE);"
                + " step: open stdin /dev/null", e.getMessage());

        e = (ProcessStartException) failFile;
        assertEquals("Cannot run program \"/bin/true\": error=24, Too many open files (EMFILE);"
                + " step: open stdout " + out, e.getMessage());

        e = (ProcessStartException) failPlain;
        assertEquals("EMFILE", e.errnoName());
        assertTrue(e.getMessage().contains(": error=24, Too many open files (EMFILE); step: "), e.getMessage());

        e = (ProcessStartException) failWithOneFree;
        assertEquals("EMFILE", e.errnoName(), e.getMessage());
        assertTrue(e.step() != SpawnStep.STDIO, "/dev/null should have opened: " + e.getMessage());

        assertTrue(reopenAfterFailure instanceof OwnedFd, "the failed spawn kept a descriptor: " + reopenAfterFailure);
        assertTrue(secondReopen instanceof IOException, "more than one slot was free: " + secondReopen);
        assertTrue(plainWithOneFree instanceof ExitStatus && ((ExitStatus) plainWithOneFree).success(),
                String.valueOf(plainWithOneFree));
    }

    @Test
    void pipeAndPipelineFailWithEmfileAsPublicTypes() throws Exception {
        long original = softLimit();
        Command first = Command.of("/bin/true");
        Command second = Command.of("/bin/cat");
        Command third = Command.of("/bin/cat");
        Pipeline pipeline = Pipeline.of(first, second, third);
        // Warm up every path used below, so no class needs loading while descriptors are exhausted.
        try (Pipeline.Running p = pipeline.spawn()) {
            assertTrue(p.waitFor().success());
        }
        OwnedFd.pipe().close();
        assertTrue(attempt(Command.of("/nonexistent")) instanceof ProcessStartException);
        List<OwnedFd> fillers = new ArrayList<>();
        List<Object> pipelines = new ArrayList<>();
        Object pipeNoneFree;
        Object pipelineNoneFree;
        IOException openError = null;

        int highest = Collections.max(Procs.fds().keySet());
        prlimitSoft(highest + 24);
        try {
            openError = fillUntilRefused(fillers);
            pipeNoneFree = tryPipe();
            pipelineNoneFree = attemptPipeline(pipeline);
            // With a few slots free the first pipe and stage succeed and a later step fails: the
            // started stages must be killed and reaped, the pipes closed (LeakCheck).
            for (int free = 1; free <= 8 && !fillers.isEmpty(); free++) {
                fillers.remove(fillers.size() - 1).close();
                pipelines.add(attemptPipeline(pipeline));
            }
        } finally {
            fillers.forEach(OwnedFd::close);
            prlimitSoft(original);
        }
        assertEquals(original, softLimit());
        assertNotNull(openError, "descriptors were never exhausted");

        IOException pipeError = (IOException) pipeNoneFree;
        assertEquals(IOException.class, pipeError.getClass(), "an internal type reached the caller");
        assertEquals("pipe: Too many open files (EMFILE)", pipeError.getMessage());
        assertNoInternalType(pipeError);

        ProcessStartException e = (ProcessStartException) pipelineNoneFree;
        assertEquals(SpawnStep.STDIO, e.step());
        assertEquals("EMFILE", e.errnoName());
        assertEquals(24, e.errno());
        assertEquals("Cannot run program \"/bin/true\": error=24, Too many open files (EMFILE);"
                + " step: pipe to stage 2 (/bin/cat)", e.getMessage());
        assertNoInternalType(e);

        boolean laterStageFailed = false;
        boolean ran = false;
        for (Object r : pipelines) {
            if (r instanceof PipelineStatus) {
                assertTrue(((PipelineStatus) r).success(), String.valueOf(r));
                ran = true;
                continue;
            }
            e = (ProcessStartException) r; // anything else fails the cast, with its type named
            assertEquals("EMFILE", e.errnoName(), e.getMessage());
            assertNoInternalType(e);
            laterStageFailed |= e.program().equals("/bin/cat"); // so /bin/true had started
        }
        assertTrue(laterStageFailed, "no failure after the first stage had started: " + pipelines);
        assertTrue(ran, "the pipeline never ran with 8 free slots: " + pipelines);
    }

    private static Object attemptPipeline(Pipeline pipeline) {
        try (Pipeline.Running p = pipeline.spawn()) {
            return p.waitFor();
        } catch (Throwable t) {
            return t;
        }
    }

    private static Object tryPipe() {
        try {
            return OwnedFd.pipe();
        } catch (Throwable t) {
            return t;
        }
    }

    private static void assertNoInternalType(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            assertFalse(c.getClass().getName().startsWith("dev.forkless.internal."),
                    "internal type in the cause chain: " + c.getClass().getName());
        }
    }

    private static Object tryOpen() {
        try {
            return OwnedFd.open(Path.of("/dev/null"));
        } catch (IOException e) {
            return e;
        }
    }

    /** Opens /dev/null into {@code fillers} until the descriptor limit refuses: that refusal. */
    private static IOException fillUntilRefused(List<OwnedFd> fillers) {
        try {
            while (fillers.size() < 10_000) {
                fillers.add(OwnedFd.open(Path.of("/dev/null")));
            }
        } catch (IOException e) {
            return e;
        }
        return null;
    }
}
