package dev.forkless.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code forkless} command line's arguments, exit codes and report. Most cases call
 * {@link Main#run} in this JVM; the peak-RSS case runs the tool in a JVM of its own, whose peak
 * is small and known.
 */
class MainTest {
    /** One run of the tool in this JVM: its exit code and what it printed. */
    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(args, o, e);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void runHelpPrintsTheUsageAndRunsNothing() {
        for (String help : new String[] {"--help", "-h"}) {
            Result r = run("run", help);
            assertEquals(0, r.code(), r::toString);
            assertTrue(r.out().startsWith("usage: forkless run [--] COMMAND"), r::toString);
            assertEquals("", r.err(), "nothing was run, nothing reported");
        }
        Result top = run("--help");
        assertEquals(0, top.code(), top::toString);
        assertTrue(top.out().startsWith("usage: "), top::toString);
    }

    @Test
    void afterDoubleDashAHelpOptionIsTheCommand() {
        Result r = run("run", "--", "--help");
        assertEquals(Main.EXIT_NOT_FOUND, r.code(), r::toString);
        assertTrue(r.err().contains("Cannot run program \"--help\""), r::toString);
    }

    @Test
    void noCommandOrAnUnknownOptionIsAUsageError() {
        for (String[] args : new String[][] {{"run"}, {"run", "--"}, {}}) {
            Result r = run(args);
            assertEquals(Main.EXIT_USAGE, r.code(), r::toString);
            assertTrue(r.err().contains("usage: forkless run"), r::toString);
            assertEquals("", r.out(), r::toString);
        }
        Result r = run("run", "-v", "true");
        assertEquals(Main.EXIT_USAGE, r.code(), r::toString);
        assertTrue(r.err().contains("unknown option '-v'"), r::toString);
    }

    @Test
    void aProgramNotFoundExits127() {
        Result r = run("run", "--", "forkless-no-such-program-here");
        assertEquals(127, r.code(), r::toString);
        assertTrue(r.err().contains("(ENOENT)"), r::toString);
        Result path = run("run", "/nonexistent/dir/prog");
        assertEquals(127, path.code(), path::toString);
    }

    @Test
    void aProgramThatExistsButCannotBeExecutedExits126(@TempDir Path dir) throws IOException {
        Path plain = Files.writeString(dir.resolve("not-executable"), "echo hi\n");
        Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rw-r--r--"));
        Result file = run("run", "--", plain.toString());
        assertEquals(126, file.code(), file::toString);
        assertTrue(file.err().contains("(EACCES)"), file::toString);

        Result directory = run("run", dir.toString());
        assertEquals(126, directory.code(), directory::toString);
        assertTrue(directory.err().contains("(EACCES)"), directory::toString);
    }

    @Test
    void exitsWithTheChildsCodeOr128PlusItsSignal() {
        Result exit7 = run("run", "--", "sh", "-c", "exit 7");
        assertEquals(7, exit7.code(), exit7::toString);
        assertTrue(exit7.err().contains("\tExit status: 7\n"), exit7::toString);

        Result killed = run("run", "sh", "-c", "kill -KILL $$");
        assertEquals(128 + 9, killed.code(), killed::toString);
        assertTrue(killed.err().contains("\tKilled by signal: KILL\n"), killed::toString);
    }

    @Test
    void theJvmsPeakIsNotReportedAsTheChilds() {
        // /bin/true's own peak is a few hundred kB; the kernel's figure is this JVM's peak.
        Result r = run("run", "/bin/true");
        assertEquals(0, r.code(), r::toString);
        Matcher m = Pattern.compile("\tMaximum resident set size \\(kbytes\\): (.*)\n").matcher(r.err());
        assertTrue(m.find(), r::toString);
        assertTrue(m.group(1).startsWith("unknown (at most "), m.group(1));
        assertTrue(m.group(1).contains("this JVM's own peak"), m.group(1));
    }

    @Test
    void theFigureIsGivenOnlyWhenItCanOnlyBeTheChilds() {
        assertEquals("\tMaximum resident set size (kbytes): 300000\n", Main.maxRssLine(300_000, 60_000));
        assertTrue(Main.maxRssLine(60_000, 60_000).contains("unknown (at most 60000;"));
        assertTrue(Main.maxRssLine(50_000, 60_000).contains("unknown (at most 50000;"));
        assertTrue(Main.maxRssLine(300_000, -1).contains("unknown (at most 300000;"), "no /proc: no claim");
    }

    @Test
    void withoutTheNativeLibraryTheToolFailsWith125(@TempDir Path dir) throws Exception {
        // The library's classes without META-INF/native (from target/classes or from the jar),
        // so the loader finds no native library anywhere.
        Path classes = dir.resolve("classes");
        Path origin = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (java.nio.file.FileSystem jar = Files.isDirectory(origin) ? null
                : java.nio.file.FileSystems.newFileSystem(origin)) {
            Path root = jar == null ? origin : jar.getPath("/");
            try (java.util.stream.Stream<Path> walk = Files.walk(root.resolve("dev"))) {
                for (Path from : (Iterable<Path>) walk::iterator) {
                    Path to = classes.resolve(root.relativize(from).toString());
                    if (Files.isDirectory(from)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(from, to);
                    }
                }
            }
        }
        java.util.List<String> cmd = ToolJvm.command("run", "--", "true");
        cmd.set(cmd.indexOf("-cp") + 1, classes.toString());
        Path err = dir.resolve("err");
        Process p = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(dir.resolve("out").toFile())
                .redirectError(err.toFile())
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the tool did not finish");
        String text = Files.readString(err);
        // 127 would say "not found" of a command that exists: the tool itself failed.
        assertEquals(Main.EXIT_FAILED, p.exitValue(), text);
        assertTrue(text.startsWith("forkless: the native library is unavailable: "), text);
    }

    @Test
    void aChildLargerThanTheToolsJvmGetsItsOwnPeak(@TempDir Path dir) throws Exception {
        // perl builds a 100 MiB string (and copies it): far above the tool JVM's own peak.
        Path err = dir.resolve("err");
        Process p = new ProcessBuilder(ToolJvm.command("run", "--", "perl", "-e", "$x = 'a' x (100 << 20)"))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(dir.resolve("out").toFile())
                .redirectError(err.toFile())
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the tool did not finish");
        String report = Files.readString(err);
        assertEquals(0, p.exitValue(), report);
        Matcher m = Pattern.compile("\tMaximum resident set size \\(kbytes\\): ([0-9]+)\n").matcher(report);
        assertTrue(m.find(), report);
        long kib = Long.parseLong(m.group(1));
        assertTrue(kib >= 100 << 10, report);
        assertFalse(report.contains("unknown"), report);
    }
}
