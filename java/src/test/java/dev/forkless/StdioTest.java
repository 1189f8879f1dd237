package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the child's standard streams go, and that Forkless's own descriptors are closed. */
@ExtendWith(LeakCheck.class)
class StdioTest {
    @TempDir
    Path tmp;

    private static void ok(Command cmd) throws Exception {
        try (Child c = cmd.spawn()) {
            ExitStatus st = c.waitFor();
            assertTrue(st.success(), () -> cmd + ": " + st);
        }
    }

    @Test
    void nulForEveryStream() throws Exception {
        try (Child c = Command.of("/bin/sleep", "30")
                .stdin(Stdio.nul()).stdout(Stdio.nul()).stderr(Stdio.nul()).spawn()) {
            Map<Integer, String> expected = Map.of(0, "/dev/null", 1, "/dev/null", 2, "/dev/null");
            assertEquals(expected, Procs.settledFdsOf(c.pid(), expected));
        }
        // stdin at end-of-file, output discarded.
        ok(Command.of("/bin/cat").stdin(Stdio.nul()).stdout(Stdio.nul()));
    }

    @Test
    void inheritIsTheDefault() throws Exception {
        Map<Integer, String> ours = Procs.fds();
        try (Child c = Command.of("/bin/sleep", "30").spawn()) {
            Map<Integer, String> expected = Map.of(0, ours.get(0), 1, ours.get(1), 2, ours.get(2));
            assertEquals(expected, Procs.settledFdsOf(c.pid(), expected));
        }
    }

    @Test
    void fileTruncatesAndCreates() throws Exception {
        Path out = tmp.resolve("out.txt");
        Files.writeString(out, "previous content that is longer\n");
        ok(Command.of("/bin/echo", "hi").stdout(Stdio.file(out)));
        assertEquals("hi\n", Procs.read(out));
        Path fresh = tmp.resolve("fresh.txt");
        ok(Command.of("/bin/sh", "-c", "echo oops >&2").stderr(Stdio.file(fresh)));
        assertEquals("oops\n", Procs.read(fresh));
    }

    @Test
    void appendAppends() throws Exception {
        Path log = tmp.resolve("log.txt");
        Command cmd = Command.of("/bin/echo", "line").stdout(Stdio.append(log));
        ok(cmd);
        ok(cmd);
        assertEquals("line\nline\n", Procs.read(log));
    }

    @Test
    void readFeedsStdin() throws Exception {
        Path in = tmp.resolve("in.txt");
        Path out = tmp.resolve("out.txt");
        byte[] data = "ünïcode\nand\0binary\n".getBytes(StandardCharsets.UTF_8);
        Files.write(in, data);
        ok(Command.of("/bin/cat").stdin(Stdio.read(in)).stdout(Stdio.file(out)));
        assertEquals(new String(data, StandardCharsets.UTF_8), Procs.read(out));
    }

    @Test
    void sameFileForStdoutAndStderrViaOneOwnedFd() throws Exception {
        Path out = tmp.resolve("both.txt");
        try (OwnedFd fd = OwnedFd.open(out, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
            ok(Command.of("/bin/sh", "-c", "echo one; echo two >&2; echo three")
                    .stdout(Stdio.fd(fd)).stderr(Stdio.fd(fd)));
            assertTrue(fd.isOpen(), "the caller keeps ownership");
        }
        assertEquals("one\ntwo\nthree\n", Procs.read(out));
    }

    @Test
    void fdWithAPipe() throws Exception {
        try (OwnedFd.Pipe pipe = OwnedFd.pipe()) {
            try (Child c = Command.of("/bin/sh", "-c", "printf hello").stdout(Stdio.fd(pipe.writer())).spawn()) {
                pipe.writer().close(); // the child has its own copy now
                // Read the pipe through /proc (a new open of the same pipe): until the child's end closes.
                try (InputStream in = Files.newInputStream(Path.of("/proc/self/fd/" + pipe.reader().rawFd()))) {
                    assertEquals("hello", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
                }
                assertTrue(c.waitFor().success());
            }
        }
    }

    @Test
    void stdinFromAPipe() throws Exception {
        Path out = tmp.resolve("out.txt");
        try (OwnedFd.Pipe pipe = OwnedFd.pipe()) {
            try (Child c = Command.of("/bin/cat").stdin(Stdio.fd(pipe.reader())).stdout(Stdio.file(out)).spawn()) {
                pipe.reader().close();
                Files.writeString(Path.of("/proc/self/fd/" + pipe.writer().rawFd()), "through the pipe");
                pipe.writer().close(); // EOF for cat
                assertTrue(c.waitFor().success());
            }
        }
        assertEquals("through the pipe", Procs.read(out));
    }

    @Test
    void wrongDirectionIsRejectedAtTheSetter() {
        Path p = tmp.resolve("x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Command.of("cat").stdin(Stdio.file(p)));
        assertEquals("stdin cannot be file(" + p + "): an output setting; use Stdio.read or Stdio.from for input", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Command.of("cat").stdin(Stdio.append(p)));
        assertTrue(e.getMessage().startsWith("stdin cannot be append("), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Command.of("cat").stdout(Stdio.read(p)));
        assertEquals("stdout cannot be read(" + p + "): an input setting; use Stdio.file or Stdio.append for output",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Command.of("cat").stderr(Stdio.read(p)));
        assertTrue(e.getMessage().startsWith("stderr cannot be read("), e.getMessage());
        assertFalse(Files.exists(p));
    }

    @Test
    void stdioValues() throws Exception {
        Path p = Path.of("out.txt");
        assertEquals(Stdio.file(p), Stdio.file(p));
        assertFalse(Stdio.file(p).equals(Stdio.append(p)));
        assertEquals("inherit", Stdio.inherit().toString());
        assertEquals("nul", Stdio.nul().toString());
        assertEquals("file(out.txt)", Stdio.file(p).toString());
        assertEquals("append(out.txt)", Stdio.append(p).toString());
        assertEquals("read(out.txt)", Stdio.read(p).toString());
        try (OwnedFd.Pipe pipe = OwnedFd.pipe()) {
            assertEquals("fd(OwnedFd[" + pipe.reader().rawFd() + "])", Stdio.fd(pipe.reader()).toString());
        }
    }
}
