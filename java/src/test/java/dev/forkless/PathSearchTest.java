package dev.forkless;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which PATH finds a program named without a '/': the child's, else this JVM's, else
 * /bin:/usr/bin (Command's class Javadoc). The JVM's own PATH cannot be changed in-process, so
 * those cases run in a helper JVM started with the PATH under test.
 */
@ExtendWith(LeakCheck.class)
class PathSearchTest {
    private static final String PROBE = "forkless-path-probe";

    @TempDir
    Path tmp;
    private Path bin;

    @BeforeEach
    void probe() throws Exception {
        bin = Files.createDirectory(tmp.resolve("bin"));
        Path probe = Files.writeString(bin.resolve(PROBE), "#!/bin/sh\necho found-in-bin\n");
        Files.setPosixFilePermissions(probe, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            assertFalse(!dir.isEmpty() && Files.exists(Path.of(dir, PROBE)), PROBE + " is in this JVM's PATH: " + dir);
        }
    }

    @Test
    void theChildsPathIsSearchedWhenItsEnvironmentHasOne() throws Exception {
        assertEquals("found-in-bin", Command.of(PROBE).env("PATH", "/nonexistent:" + bin).output().stdoutText().trim());
        assertEquals("found-in-bin", Command.of(PROBE).envClear().env("PATH", bin.toString()).output().stdoutText().trim());
        // Not in this JVM's PATH, so not found when the child inherits it.
        ProcessStartException e = assertThrows(ProcessStartException.class, () -> Command.of(PROBE).spawn());
        assertEquals(SpawnStep.RESOLVE, e.step());
        assertEquals("ENOENT", e.errnoName());
        // An empty entry (here the whole PATH) is the child's working directory.
        assertEquals("found-in-bin", Command.of(PROBE).env("PATH", "").directory(bin).output().stdoutText().trim());
    }

    @Test
    void withoutPathInTheChildsEnvironmentThisJvmsPathIsSearched() throws Exception {
        List<String> lines = helper(List.of(), bin + ":" + System.getenv("PATH"), PROBE);
        assertEquals(List.of("removed " + PROBE + ": ok found-in-bin", "cleared " + PROBE + ": ok found-in-bin"), lines);
    }

    @Test
    void withPathNowhereTheSearchIsInBinAndUsrBin() throws Exception {
        Path env = Path.of("/usr/bin/env");
        assertTrue(Files.isExecutable(env), "needs " + env);
        // "true" is in /bin or /usr/bin; the probe is found through no PATH at all.
        List<String> lines = helper(List.of(env.toString(), "-u", "PATH"), null, "true", PROBE);
        assertEquals(List.of("removed true: ok", "cleared true: ok",
                "removed " + PROBE + ": resolve ENOENT", "cleared " + PROBE + ": resolve ENOENT"), lines);
    }

    /** Runs PathSearchHelper in a JVM with the given PATH (null: as the prefix leaves it). */
    private static List<String> helper(List<String> prefix, String jvmPath, String... programs) throws Exception {
        List<String> cmd = new ArrayList<>(prefix);
        List<String> java = HelperMain.commandWithForkless(PathSearchHelper.class, programs);
        java.add(1, "-D" + "forkless.library.path=" + Forkless.nativeLibraryLocation().orElseThrow());
        cmd.addAll(java);
        Command c = Command.of(cmd);
        if (jvmPath != null) {
            c = c.env("PATH", jvmPath);
        }
        Output out = c.output();
        assertEquals(0, out.status().code().orElse(-1), () -> "helper failed: " + out.stdoutText() + out.stderrText());
        return List.of(out.stdoutText().split("\n"));
    }
}
