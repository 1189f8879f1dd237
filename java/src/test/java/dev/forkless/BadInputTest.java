package dev.forkless;

import org.junit.jupiter.api.Test;
import org.zeroturnaround.exec.ProcessInitException;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gets a clear exception naming the bad piece, and leaves nothing behind. */
@ExtendWith(LeakCheck.class)
class BadInputTest {
    @TempDir
    Path tmp;

    private static final Path CWD = Path.of("").toAbsolutePath();

    private static void iae(String expectedMessage, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(expectedMessage, e.getMessage());
    }

    @Test
    void nulCharactersAreRejectedAtTheBuilderCall() {
        iae("program contains a NUL character at index 2: 'cc\\0x'", () -> Command.of("cc\0x"));
        iae("argument 2 contains a NUL character at index 1: 'b\\0'", () -> Command.of("cc", "a", "b\0"));
        iae("argument 2 contains a NUL character at index 0: '\\0'", () -> Command.of("cc", "-c").arg("\0"));
        iae("argument 3 contains a NUL character at index 3: 'two\\0'", () -> Command.of("cc").args("one", "two", "two\0"));
        iae("argument 1 contains a NUL character at index 1: 'x\\0y'", () -> Command.of("cc").args(List.of("x\0y")));
        iae("environment variable name contains a NUL character at index 1: 'A\\0B'", () -> Command.of("cc").env("A\0B", "v"));
        iae("value of environment variable A contains a NUL character at index 3: 'val\\0'", () -> Command.of("cc").env("A", "val\0"));
        iae("environment variable name contains a NUL character at index 0: '\\0'", () -> Command.of("cc").envRemove("\0"));
    }

    @Test
    void badEnvironmentNames() {
        iae("environment variable name contains '=': 'A=B'", () -> Command.of("cc").env("A=B", "v"));
        iae("environment variable name contains '=': '='", () -> Command.of("cc").envRemove("="));
        iae("environment variable name is empty", () -> Command.of("cc").env("", "v"));
        iae("environment variable name is empty", () -> Command.of("cc").envRemove(""));
    }

    @Test
    void emptyProgramAndUnencodableStrings() {
        iae("program is empty", () -> Command.of(""));
        iae("the command line is empty", () -> Command.of(List.of()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Command.of("cc", "\uD800"));
        assertTrue(e.getMessage().startsWith("argument 1 cannot be represented in the platform encoding"), e.getMessage());
        assertThrows(NullPointerException.class, () -> Command.of("cc", (String) null));
        assertThrows(NullPointerException.class, () -> Command.of("cc").env("A", null));
    }

    private static ProcessStartException startFails(Command cmd) {
        Set<Long> before = Procs.children().stream().map(Procs.Stat::pid).collect(Collectors.toSet());
        ProcessStartException e = assertThrows(ProcessStartException.class, cmd::spawn);
        Set<Long> after = Procs.children().stream().map(Procs.Stat::pid).collect(Collectors.toSet());
        assertEquals(before, after, "a failed spawn left a child");
        return e;
    }

    @Test
    void missingProgramWithAPath() {
        ProcessStartException e = startFails(Command.of("/nonexistent/gcc", "-c"));
        assertEquals("Cannot run program \"/nonexistent/gcc\": error=2, No such file or directory (ENOENT);"
                + " step: execve", e.getMessage());
        assertEquals("/nonexistent/gcc", e.program());
        assertEquals(CWD, e.directory());
        assertEquals(SpawnStep.EXEC, e.step());
        assertEquals("execve", e.step().stepName());
        assertEquals(2, e.errno());
        assertEquals("ENOENT", e.errnoName());
    }

    @Test
    void missingProgramMessageHasTheJdkShapeWithAndWithoutADirectory() {
        // As ProcessBuilder.start() words it (the directory only when one was set), then the name
        // and the step; errno() is the number in "error=".
        ProcessStartException e = startFails(Command.of("forkless-no-such-program", "-c"));
        assertEquals("Cannot run program \"forkless-no-such-program\": error=2, No such file or directory"
                + " (ENOENT); step: not found in PATH", e.getMessage());
        assertEquals(2, e.errno());
        assertEquals("ENOENT", e.errnoName());
        assertEquals(CWD, e.directory(), "directory() names the inherited directory all the same");

        e = startFails(Command.of("forkless-no-such-program").directory(tmp));
        assertEquals("Cannot run program \"forkless-no-such-program\" (in directory \"" + tmp
                + "\"): error=2, No such file or directory (ENOENT); step: not found in PATH", e.getMessage());
        assertEquals(tmp, e.directory());

        // A relative directory is shown made absolute, as directory() returns it.
        e = startFails(Command.of("/nonexistent/gcc").directory(Path.of(".")));
        assertEquals("Cannot run program \"/nonexistent/gcc\" (in directory \"" + CWD.resolve(".")
                + "\"): error=2, No such file or directory (ENOENT); step: execve", e.getMessage());
    }

    @Test
    void ztExecReadsTheErrorCodeFromTheMessage() {
        // zt-exec turns the JDK's start failure into its ProcessInitException by parsing
        // " error=<n>, " out of the message; ours must give it the same number.
        ProcessStartException e = startFails(Command.of("forkless-no-such-program").directory(tmp));
        ProcessInitException zt = ProcessInitException.newInstance("Could not execute [x]", e);
        assertNotNull(zt, "zt-exec found no error code in: " + e.getMessage());
        assertEquals(2, zt.getErrorCode());
        assertEquals(e.errno(), zt.getErrorCode());
        assertEquals("Could not execute [x] Error=2, No such file or directory (ENOENT); step: not found in PATH",
                zt.getMessage());
        assertSame(e, zt.getCause());

        e = startFails(Command.of("/bin/true").directory(tmp.resolve("missing")));
        assertEquals(2, ProcessInitException.newInstance("x", e).getErrorCode()); // chdir
        e = startFails(Command.of(tmp.toString())); // a directory: execve says EACCES
        assertEquals(13, ProcessInitException.newInstance("x", e).getErrorCode());
        assertEquals("EACCES", e.errnoName());
    }

    @Test
    void programNotFoundInPath() {
        ProcessStartException e = startFails(Command.of("forkless-no-such-program").directory(tmp));
        assertEquals("Cannot run program \"forkless-no-such-program\" (in directory \"" + tmp
                + "\"): error=2, No such file or directory (ENOENT); step: not found in PATH", e.getMessage());
        assertEquals(SpawnStep.RESOLVE, e.step());
        assertEquals("ENOENT", e.errnoName());
        assertEquals(tmp, e.directory());
    }

    @Test
    void programNotExecutable() throws Exception {
        Path script = tmp.resolve("not-executable");
        Files.writeString(script, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        ProcessStartException e = startFails(Command.of(script.toString()));
        assertEquals("Cannot run program \"" + script + "\": error=13, Permission denied (EACCES); step: execve",
                e.getMessage());
        assertEquals(SpawnStep.EXEC, e.step());
        assertEquals(13, e.errno());

        // Found in PATH but not executable: the search goes on, and EACCES is what it reports.
        e = startFails(Command.of("not-executable").env("PATH", tmp.toString()));
        assertEquals("Cannot run program \"not-executable\": error=13, Permission denied (EACCES); step: PATH search",
                e.getMessage());
        assertEquals(SpawnStep.RESOLVE, e.step());

        // A directory is not a program either.
        e = startFails(Command.of(tmp.toString()));
        assertEquals("EACCES", e.errnoName());
        assertEquals(SpawnStep.EXEC, e.step());
    }

    @Test
    void missingDirectory() {
        Path missing = tmp.resolve("no-such-dir");
        ProcessStartException e = startFails(Command.of("/bin/true").directory(missing));
        assertEquals("Cannot run program \"/bin/true\" (in directory \"" + missing
                + "\"): error=2, No such file or directory (ENOENT); step: chdir", e.getMessage());
        assertEquals(SpawnStep.CHDIR, e.step());
        assertEquals(missing, e.directory());
    }

    @Test
    void directoryIsAFile() throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        ProcessStartException e = startFails(Command.of("/bin/true").directory(file));
        assertEquals("Cannot run program \"/bin/true\" (in directory \"" + file
                + "\"): error=20, Not a directory (ENOTDIR); step: chdir", e.getMessage());
    }

    @Test
    void stdioFileThatCannotBeOpened() {
        Path bad = tmp.resolve("no-such-dir").resolve("out.txt");
        ProcessStartException e = startFails(Command.of("/bin/true").stdout(Stdio.file(bad)));
        assertEquals("Cannot run program \"/bin/true\": error=2, No such file or directory (ENOENT); step: open stdout "
                + bad, e.getMessage());
        assertEquals(SpawnStep.STDIO, e.step());
        // A later stream failing must close the earlier ones (the leak check verifies it).
        e = startFails(Command.of("/bin/true").stdin(Stdio.nul()).stdout(Stdio.file(tmp.resolve("ok")))
                .stderr(Stdio.append(bad)));
        assertTrue(e.getMessage().endsWith("; step: open stderr " + bad), e.getMessage());
        e = startFails(Command.of("/bin/cat").stdin(Stdio.read(bad)));
        assertTrue(e.getMessage().endsWith("; step: open stdin " + bad), e.getMessage());
    }

    @Test
    void failureAfterStdioWasOpenedClosesIt() {
        // The files are opened, then the spawn fails in the child (chdir): all of them closed again.
        Path out = tmp.resolve("out.txt");
        ProcessStartException e = startFails(Command.of("/bin/true").stdin(Stdio.nul()).stdout(Stdio.file(out))
                .directory(tmp.resolve("missing")));
        assertEquals(SpawnStep.CHDIR, e.step());
        assertTrue(Files.exists(out), "the stdout file was created before the spawn");
    }

    @Test
    void closedOwnedFdFailsBeforeAnythingStarts() throws Exception {
        OwnedFd.Pipe pipe = OwnedFd.pipe();
        pipe.close();
        Path out = tmp.resolve("must-not-exist.txt");
        Set<Long> before = Procs.children().stream().map(Procs.Stat::pid).collect(Collectors.toSet());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Command.of("/bin/true").stdout(Stdio.file(out)).stderr(Stdio.fd(pipe.writer())).spawn());
        assertEquals("cannot run '/bin/true': stderr is Stdio.fd(OwnedFd[closed]), which is closed", e.getMessage());
        assertFalse(Files.exists(out), "nothing may be opened before the check");
        assertEquals(before, Procs.children().stream().map(Procs.Stat::pid).collect(Collectors.toSet()));
    }
}
