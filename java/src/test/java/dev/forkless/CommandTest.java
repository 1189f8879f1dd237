package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Arguments, working directory and environment reach the child exactly. */
@ExtendWith(LeakCheck.class)
class CommandTest {
    @TempDir
    Path tmp;

    /** Runs the command to completion and returns what it wrote to stdout. */
    private byte[] run(Command cmd) throws Exception {
        Path out = tmp.resolve("out-" + System.nanoTime());
        try (Child c = cmd.stdout(Stdio.file(out)).spawn()) {
            ExitStatus st = c.waitFor();
            assertTrue(st.success(), () -> cmd + ": " + st);
        }
        return Files.readAllBytes(out);
    }

    private static byte[] nulJoined(List<String> parts) {
        StringBuilder sb = new StringBuilder();
        for (String p : parts) {
            sb.append(p).append('\0');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void argumentsArriveByteForByte() throws Exception {
        List<String> args = List.of("", "plain", "two words", "é日本 ☃", "'\"$HOME`;|&", "tab\tnew\nline",
                "-", "--", "*", "\u00ff\u0100", "");
        // sh -c SCRIPT $0 $1...: printf prints $0 and every argument NUL-terminated.
        Command cmd = Command.of("/bin/sh", "-c", "printf '%s\\0' \"$0\" \"$@\"").args(args);
        assertArrayEquals(nulJoined(args), run(cmd));
    }

    @Test
    void argv0IsTheProgramAsGiven() throws Exception {
        Path script = tmp.resolve("show-argv0");
        Files.writeString(script, "#!/bin/sh\nprintf '%s' \"$0\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        assertEquals(script.toString(), new String(run(Command.of(script.toString())), StandardCharsets.UTF_8));
    }

    @Test
    void manyArguments() throws Exception {
        String[] args = new String[5000];
        Arrays.setAll(args, i -> "a" + i);
        Command cmd = Command.of("/bin/sh", "-c", "echo $#", "sh").args(args);
        assertEquals("5000\n", new String(run(cmd), StandardCharsets.UTF_8));
    }

    @Test
    void workingDirectory() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("wd é"));
        String pwd = new String(run(Command.of("/bin/pwd", "-P").directory(dir)), StandardCharsets.UTF_8);
        assertEquals(dir.toRealPath() + "\n", pwd);
        // Relative directories are relative to this JVM's working directory.
        Path cwd = Path.of("").toAbsolutePath();
        Path rel = cwd.relativize(dir);
        pwd = new String(run(Command.of("/bin/pwd", "-P").directory(rel)), StandardCharsets.UTF_8);
        assertEquals(dir.toRealPath() + "\n", pwd);
        // Default: ours.
        pwd = new String(run(Command.of("/bin/pwd", "-P")), StandardCharsets.UTF_8);
        assertEquals(cwd.toRealPath() + "\n", pwd);
    }

    @Test
    void relativeProgramIsResolvedInTheChildsDirectory() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("bin"));
        Path script = dir.resolve("tool");
        Files.writeString(script, "#!/bin/sh\necho tool ran\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        assertEquals("tool ran\n", new String(run(Command.of("./tool").directory(dir)), StandardCharsets.UTF_8));
    }

    private static Map<String, String> parseEnv(byte[] out) {
        Map<String, String> env = new TreeMap<>();
        for (String line : new String(out, StandardCharsets.UTF_8).split("\0")) {
            if (!line.isEmpty()) {
                int eq = line.indexOf('=');
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }

    @Test
    void environmentIsInheritedByDefault() throws Exception {
        Map<String, String> env = parseEnv(run(Command.of("/usr/bin/env", "-0")));
        assertEquals(new TreeMap<>(System.getenv()), env);
    }

    @Test
    void envSetAndRemove() throws Exception {
        Map<String, String> env = parseEnv(run(Command.of("/usr/bin/env", "-0")
                .env("FORKLESS_A", "välue with = and spaces")
                .env("FORKLESS_EMPTY", "")
                .env("FORKLESS_B", "first").env("FORKLESS_B", "second")
                .envRemove("HOME")
                .env("FORKLESS_GONE", "x").envRemove("FORKLESS_GONE")));
        Map<String, String> expected = new TreeMap<>(System.getenv());
        expected.remove("HOME");
        expected.put("FORKLESS_A", "välue with = and spaces");
        expected.put("FORKLESS_EMPTY", "");
        expected.put("FORKLESS_B", "second");
        assertEquals(expected, env);
    }

    @Test
    void envClear() throws Exception {
        assertEquals(Map.of(), parseEnv(run(Command.of("/usr/bin/env", "-0").envClear())));
        assertEquals(Map.of("ONLY", "1"),
                parseEnv(run(Command.of("/usr/bin/env", "-0").env("DROPPED", "x").envClear().env("ONLY", "1"))));
        // Without PATH a bare name is still found in /bin:/usr/bin.
        assertEquals(Map.of(), parseEnv(run(Command.of("env", "-0").envClear())));
    }

    @Test
    void pathOfTheChildsEnvironmentIsSearched() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("mybin"));
        Path script = dir.resolve("forkless-only-here");
        Files.writeString(script, "#!/bin/sh\necho found\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        assertEquals("found\n", new String(run(Command.of("forkless-only-here")
                .env("PATH", dir + ":/usr/bin:/bin")), StandardCharsets.UTF_8));
    }

    @Test
    void scriptWithoutShebangRunsWithSh() throws Exception {
        Path script = tmp.resolve("no-shebang");
        Files.writeString(script, "echo via sh; exit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        assertEquals("via sh\n", new String(run(Command.of(script.toString())), StandardCharsets.UTF_8));
    }

    @Test
    void jvmHelperSeesExactArgsEnvAndDirectory() throws Exception {
        Path dump = tmp.resolve("dump.txt");
        Path dir = Files.createDirectory(tmp.resolve("helper-dir"));
        List<String> cmdLine = HelperMain.command("dump", dump.toString(), "", "ünï", "a b", "x\ny");
        Command cmd = Command.of(cmdLine).directory(dir).envClear()
                .env("FORKLESS_X", "1").env("LANG", "C.UTF-8").stdin(Stdio.nul());
        try (Child c = cmd.spawn()) {
            assertEquals(OptionalInt.of(0), c.waitFor().code());
        }
        List<String> lines = Files.readAllLines(dump, StandardCharsets.UTF_8);
        assertEquals(List.of("arg:", "arg:ünï", "arg:a b", "arg:x\\ny", "cwd:" + dir.toRealPath(),
                "env:FORKLESS_X=1", "env:LANG=C.UTF-8"), lines);
    }

    @Test
    void jvmHelperExitCode() throws Exception {
        try (Child c = Command.of(HelperMain.command("exit", "77")).spawn()) {
            assertEquals(OptionalInt.of(77), c.waitFor().code());
        }
    }

    @Test
    void commandsAreImmutableValues() {
        Command base = Command.of("cc", "-c");
        Command more = base.arg("x.c").directory(tmp).env("A", "1").stdout(Stdio.nul()).onClose(CloseAction.WAIT);
        assertNotSame(base, more);
        assertEquals(List.of("-c"), base.arguments());
        assertEquals(List.of("-c", "x.c"), more.arguments());
        assertEquals("cc", more.program());
        assertEquals("Command[cc, -c]", base.toString());
        assertEquals("Command[cc, -c, x.c; directory=" + tmp + ", env A=1, stdout=nul, onClose=WAIT]",
                more.toString());
        assertEquals("Command[env; envClear, envRemove TZ, newSession]",
                Command.of("env").envClear().envRemove("TZ").newSession().toString());
        assertFalse(base.toString().contains("x.c"));
    }
}
