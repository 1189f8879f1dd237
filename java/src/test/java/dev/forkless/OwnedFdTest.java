package dev.forkless;

import dev.forkless.internal.Native;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.lang.ref.WeakReference;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OwnedFd: owns one descriptor, closes it exactly once. */
@ExtendWith(LeakCheck.class)
class OwnedFdTest {
    @TempDir
    Path tmp;

    private static boolean isOpenInProc(int fd) {
        return Files.exists(Path.of("/proc/self/fd/" + fd), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void openCloseIsIdempotent() throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "x");
        OwnedFd fd = OwnedFd.open(f);
        int n = fd.rawFd();
        assertTrue(fd.isOpen());
        assertEquals(f.toString(), Files.readSymbolicLink(Path.of("/proc/self/fd/" + n)).toString());
        assertEquals("OwnedFd[" + n + "]", fd.toString());
        fd.close();
        assertFalse(fd.isOpen());
        assertFalse(isOpenInProc(n));
        fd.close();
        assertEquals("OwnedFd[closed]", fd.toString());
        assertThrows(IllegalStateException.class, fd::rawFd);
        assertThrows(IllegalStateException.class, fd::release);
    }

    @Test
    void descriptorsAreCloseOnExec() throws Exception {
        try (OwnedFd fd = OwnedFd.open(Path.of("/dev/null"))) {
            String fdinfo = Files.readString(Path.of("/proc/self/fdinfo/" + fd.rawFd()));
            long flags = Long.parseLong(fdinfo.lines().filter(l -> l.startsWith("flags:")).findFirst()
                    .orElseThrow().substring(6).trim(), 8);
            assertTrue((flags & 02000000) != 0, "O_CLOEXEC missing: " + fdinfo);
        }
    }

    @Test
    void releaseGivesUpOwnership() throws Exception {
        OwnedFd fd = OwnedFd.open(Path.of("/dev/null"));
        int n = fd.release();
        assertFalse(fd.isOpen());
        fd.close(); // does nothing now
        assertTrue(isOpenInProc(n), "release() must not close");
        assertEquals(0, Native.closeFd(n)); // the caller's job now
        assertFalse(isOpenInProc(n));
    }

    @Test
    void closeFromManyThreadsClosesOnce() throws Exception {
        for (int round = 0; round < 20; round++) {
            OwnedFd fd = OwnedFd.open(Path.of("/dev/null"));
            CompletableFuture<?>[] fs = new CompletableFuture<?>[8];
            for (int i = 0; i < fs.length; i++) {
                fs[i] = CompletableFuture.runAsync(fd::close);
            }
            // A descriptor opened meanwhile may get the same number; no second close may hit it.
            try (OwnedFd other = OwnedFd.open(Path.of("/dev/null"))) {
                CompletableFuture.allOf(fs).get(10, TimeUnit.SECONDS);
                assertTrue(isOpenInProc(other.rawFd()));
            }
        }
    }

    @Test
    void openOptions() throws Exception {
        Path f = tmp.resolve("new.txt");
        assertThrows(NoSuchFileException.class, () -> OwnedFd.open(f));
        try (OwnedFd fd = OwnedFd.open(f, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
            assertTrue(fd.isOpen());
        }
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                () -> OwnedFd.open(f, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW));
        assertEquals(f + ": File exists (EEXIST)", e.getMessage());
        Files.writeString(f, "content");
        OwnedFd.open(f, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING).close();
        assertEquals(0, Files.size(f));
        assertThrows(UnsupportedOperationException.class,
                () -> OwnedFd.open(f, StandardOpenOption.DELETE_ON_CLOSE));
        assertThrows(java.nio.file.FileSystemException.class, () -> OwnedFd.open(tmp, StandardOpenOption.WRITE));
        Path ro = Files.createDirectory(tmp.resolve("ro"));
        if (!"root".equals(System.getProperty("user.name"))) {
            Files.setPosixFilePermissions(ro, java.nio.file.attribute.PosixFilePermissions.fromString("r-x------"));
            assertThrows(AccessDeniedException.class,
                    () -> OwnedFd.open(ro.resolve("x"), StandardOpenOption.WRITE, StandardOpenOption.CREATE));
        }
    }

    @Test
    void pipePair() throws Exception {
        OwnedFd.Pipe p = OwnedFd.pipe();
        assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + p.reader().rawFd())).toString().startsWith("pipe:"));
        p.close();
        assertFalse(p.reader().isOpen());
        assertFalse(p.writer().isOpen());
        p.close();
    }

    @Test
    void closeDuringASpawnIsDeferredUntilTheSpawnIsDone() throws Exception {
        // Many spawns share one descriptor while another thread closes it: every spawn either
        // succeeds with the right file or fails with IllegalStateException; nothing else happens.
        Path out = tmp.resolve("out.txt");
        for (int round = 0; round < 10; round++) {
            OwnedFd fd = OwnedFd.open(out, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            CompletableFuture<Void> closer = CompletableFuture.runAsync(fd::close);
            for (int i = 0; i < 3; i++) {
                try (Child c = Command.of("/bin/echo", "x").stdout(Stdio.fd(fd)).spawn()) {
                    assertTrue(c.waitFor().success());
                } catch (IllegalStateException closed) {
                    assertTrue(closed.getMessage().endsWith("which is closed"), closed.getMessage());
                }
            }
            closer.get(10, TimeUnit.SECONDS);
            assertFalse(fd.isOpen());
        }
        assertTrue(Procs.read(out).chars().allMatch(ch -> ch == 'x' || ch == '\n'));
    }

    @Test
    void cleanerClosesADroppedDescriptor() throws Exception {
        int[] n = new int[1];
        WeakReference<OwnedFd> ref = dropped(n);
        assertTrue(Procs.eventually(Duration.ofSeconds(20), () -> {
            System.gc();
            return ref.get() == null && !isOpenInProc(n[0]);
        }), "the dropped OwnedFd's descriptor was not closed");
    }

    private static WeakReference<OwnedFd> dropped(int[] n) throws Exception {
        OwnedFd fd = OwnedFd.open(Path.of("/dev/null"));
        n[0] = fd.rawFd();
        return new WeakReference<>(fd);
    }
}
