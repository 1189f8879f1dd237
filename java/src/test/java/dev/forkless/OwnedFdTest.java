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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
    void releaseDuringABorrowWaitsForItAndRefusesNewBorrows() throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "x");
        OwnedFd fd = OwnedFd.open(f);
        int n = fd.borrow(); // as a spawn in progress does
        CompletableFuture<Integer> released = new CompletableFuture<>();
        Thread releaser = new Thread(() -> released.complete(fd.release()), "releaser");
        releaser.start();
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> releaser.getState() == Thread.State.WAITING),
                "release() did not wait for the borrow: " + releaser.getState() + ", " + released);
        assertFalse(released.isDone());
        assertEquals(-1, fd.borrow(), "a borrow began while release() was waiting");
        assertFalse(fd.isOpen());
        assertThrows(IllegalStateException.class, fd::rawFd);
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> Command.of("/bin/true").stdin(Stdio.fd(fd)).spawn());
        assertTrue(refused.getMessage().endsWith("which is closed"), refused.getMessage());
        fd.close(); // after release() began: does nothing, the releaser gets the descriptor
        assertTrue(isOpenInProc(n));
        fd.unborrow();
        assertEquals(n, released.get(10, TimeUnit.SECONDS));
        releaser.join();
        assertTrue(isOpenInProc(n), "release() must not close");
        assertEquals(f.toString(), Files.readSymbolicLink(Path.of("/proc/self/fd/" + n)).toString());
        assertEquals(0, Native.closeFd(n));
    }

    @Test
    void releaseRacingSpawnsNeverGivesAChildAnotherDescriptor() throws Exception {
        // Three threads spawn children whose stdin is Stdio.fd(x) while a fourth releases x and
        // closes the number, and a fifth keeps opening another file, which takes any freed
        // number. Each child prints what its stdin is: the target file, or the spawn is refused.
        // Before release() waited for borrows, about 2 in every thousand got another pipe or EBADF.
        Path target = Files.writeString(tmp.resolve("target"), "t");
        Path decoy = Files.writeString(tmp.resolve("decoy"), "d");
        int spawnLimit = 4000;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        AtomicReference<OwnedFd> current = new AtomicReference<>(OwnedFd.open(target));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger spawned = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger releases = new AtomicInteger();
        List<String> wrong = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<Throwable> crashed = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            threads.add(new Thread(() -> {
                while (!stop.get()) {
                    OwnedFd x = current.get();
                    try {
                        Output out = Command.of("readlink", "/proc/self/fd/0").stdin(Stdio.fd(x)).output();
                        String got = out.stdoutText().trim();
                        if (!got.equals(target.toString())) {
                            wrong.add(got);
                        }
                    } catch (IllegalStateException released) {
                        refused.incrementAndGet();
                        while (current.get() == x && !stop.get()) {
                            Thread.onSpinWait(); // until the releaser has opened the next one
                        }
                        continue;
                    } catch (ProcessStartException e) {
                        wrong.add(e.getMessage());
                    } catch (Throwable e) {
                        crashed.compareAndSet(null, e);
                        stop.set(true);
                    }
                    if (spawned.incrementAndGet() >= spawnLimit || System.nanoTime() > deadline) {
                        stop.set(true);
                    }
                }
            }, "spawner-" + t));
        }
        threads.add(new Thread(() -> {
            try {
                while (!stop.get()) {
                    int seen = spawned.get();
                    while (spawned.get() == seen && !stop.get()) {
                        Thread.onSpinWait(); // one release per started child keeps both sides busy
                    }
                    OwnedFd x = current.get();
                    int raw = x.release();
                    Native.closeFd(raw);
                    current.set(OwnedFd.open(target));
                    releases.incrementAndGet();
                }
            } catch (Throwable e) {
                crashed.compareAndSet(null, e);
                stop.set(true);
            }
        }, "releaser"));
        threads.add(new Thread(() -> {
            try {
                while (!stop.get()) {
                    OwnedFd.open(decoy).close();
                }
            } catch (Throwable e) {
                crashed.compareAndSet(null, e);
                stop.set(true);
            }
        }, "opener"));
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        current.get().close();
        assertNull(crashed.get(), () -> "a thread failed: " + crashed.get());
        System.out.println("release race: " + spawned + " spawns, " + wrong.size() + " wrong, " + refused
                + " refused, " + releases + " releases");
        assertTrue(releases.get() > 100 && spawned.get() > 100,
                "too little happened: " + spawned + " spawns, " + refused + " refused, " + releases + " releases");
        assertTrue(wrong.isEmpty(), () -> wrong.size() + " of " + spawned + " children got another stdin"
                + " (" + refused + " refused, " + releases + " releases), e.g. "
                + wrong.subList(0, Math.min(5, wrong.size())));
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
