package dev.forkless;

import dev.forkless.internal.Cleaners;
import dev.forkless.internal.Native;
import dev.forkless.internal.NativeLoader;
import dev.forkless.internal.NativeStrings;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * Owns one open file descriptor and closes it exactly once.
 *
 * <p>An {@code OwnedFd} is the only way a descriptor crosses the Forkless API: a number alone says
 * nothing about who may close it or whether it still refers to the same file. Ownership ends in one
 * of two ways:
 * <ul>
 *   <li>{@link #close()}: closes the descriptor; later calls do nothing. A {@link Command} that is
 *       spawning with this descriptor ({@link Stdio#fd(OwnedFd)}) holds it open until the spawn
 *       has finished, so closing from another thread can never make a child inherit a reused
 *       number.</li>
 *   <li>{@link #release()}: gives the raw number to the caller, who closes it from then on.
 *       Like {@code close()}, it respects the spawns using the descriptor: it waits for them to
 *       finish, and no new spawn can take the descriptor meanwhile.</li>
 * </ul>
 * If neither happens and the object becomes unreachable, a cleanup action closes the descriptor
 * (run by the reactor thread, within about a second after the garbage collector finds it).
 * That is a safety net against leaks, not a plan: it runs late, on another thread, or never.
 *
 * <p>Every descriptor Forkless creates is close-on-exec: a child gets it only when a
 * {@link Command} maps it explicitly. Thread-safe.
 */
public final class OwnedFd implements AutoCloseable {
    /**
     * The two ends of a pipe, from {@link OwnedFd#pipe()}. Closing the pair closes both ends that
     * are still owned.
     *
     * @param reader the end to read from
     * @param writer the end to write to
     */
    public record Pipe(OwnedFd reader, OwnedFd writer) implements AutoCloseable {
        /**
         * Checks the components.
         *
         * @param reader the end to read from
         * @param writer the end to write to
         * @throws NullPointerException if an end is null
         */
        public Pipe {
            Objects.requireNonNull(reader, "reader");
            Objects.requireNonNull(writer, "writer");
        }

        /** Closes both ends; idempotent. */
        @Override
        public void close() {
            try {
                reader.close();
            } finally {
                writer.close();
            }
        }
    }

    /**
     * The descriptor and its borrow count, shared with the cleaning action (which must not refer
     * to the OwnedFd itself).
     */
    private static final class State implements Runnable {
        private int fd;            // -1 once closed or released
        private int borrows;       // spawns in progress that use fd
        private boolean closeLater; // close() was called while borrowed
        private boolean releasing;  // release() is waiting for the borrows to end

        /** Whether ownership is over or ending: no new borrow, no raw number handed out. */
        boolean ending() {
            return fd < 0 || closeLater || releasing;
        }

        State(int fd) {
            this.fd = fd;
        }

        /** The cleaning action, and close() after the last borrow. */
        @Override
        public void run() {
            int toClose;
            synchronized (this) {
                if (releasing) {
                    return; // release() began first: the number is its caller's
                }
                if (borrows > 0) {
                    closeLater = true;
                    return;
                }
                toClose = fd;
                fd = -1;
            }
            if (toClose >= 0) {
                Native.closeFd(toClose); // errors (EIO) cannot be acted on: the number is gone anyway
            }
        }
    }

    private final State state;
    private final Cleaner.Cleanable cleanable;

    private OwnedFd(int fd) {
        this.state = new State(fd);
        this.cleanable = Cleaners.register(this, state);
    }

    /**
     * Opens a file.
     *
     * <p>Options, as for {@link java.nio.file.Files#newByteChannel}: {@code READ}, {@code WRITE},
     * {@code APPEND} (implies {@code WRITE}), {@code CREATE}, {@code CREATE_NEW},
     * {@code TRUNCATE_EXISTING} (ignored without {@code WRITE}). With no option the file is opened
     * for reading. A created file gets mode {@code 0666} minus the umask. The descriptor is
     * close-on-exec.
     *
     * @param path the file
     * @param options how to open it
     * @return the owner of the new descriptor
     * @throws IOException if the file cannot be opened: a {@link NoSuchFileException},
     *     {@link AccessDeniedException}, {@link FileAlreadyExistsException},
     *     {@link NotDirectoryException} or other {@link FileSystemException} whose reason names the
     *     errno, e.g. {@code "Too many open files (EMFILE)"}
     * @throws UnsupportedOperationException for an option not listed above
     * @throws UnsatisfiedLinkError if the native library cannot be loaded
     * @throws IllegalArgumentException if the path cannot be represented in the platform encoding
     */
    public static OwnedFd open(Path path, OpenOption... options) throws IOException {
        Objects.requireNonNull(path, "path");
        NativeLoader.ensureLoaded();
        boolean read = false;
        boolean write = false;
        int flags = 0;
        for (OpenOption o : options) {
            if (o == StandardOpenOption.READ) {
                read = true;
            } else if (o == StandardOpenOption.WRITE) {
                write = true;
            } else if (o == StandardOpenOption.APPEND) {
                write = true;
                flags |= Native.OPEN_APPEND;
            } else if (o == StandardOpenOption.CREATE) {
                flags |= Native.OPEN_CREATE;
            } else if (o == StandardOpenOption.CREATE_NEW) {
                flags |= Native.OPEN_CREATE | Native.OPEN_EXCLUSIVE;
            } else if (o == StandardOpenOption.TRUNCATE_EXISTING) {
                flags |= Native.OPEN_TRUNCATE;
            } else {
                Objects.requireNonNull(o, "option");
                throw new UnsupportedOperationException("unsupported open option: " + o);
            }
        }
        if (!write) {
            read = true;
            flags &= ~(Native.OPEN_TRUNCATE | Native.OPEN_CREATE | Native.OPEN_EXCLUSIVE);
        }
        flags |= (read ? Native.OPEN_READ : 0) | (write ? Native.OPEN_WRITE : 0);
        return new OwnedFd(openRaw(path, flags));
    }

    /** Takes ownership of a descriptor Forkless created (a pipe end). */
    static OwnedFd adopt(int fd) {
        return new OwnedFd(fd);
    }

    /**
     * Opens a file for the API's own use (Stdio files, /dev/null).
     *
     * @return the raw descriptor, which the caller must close
     */
    static int openRaw(Path path, int flags) throws FileSystemException {
        int fd = Native.open(NativeStrings.encode(path, "path"), flags, 0666);
        if (fd < 0) {
            throw fileError(path, -fd);
        }
        return fd;
    }

    static FileSystemException fileError(Path path, int errno) {
        String file = path.toString();
        String reason = Native.describe(errno);
        switch (errno) {
            case Native.ENOENT:
                return new NoSuchFileException(file, null, reason);
            case Native.EACCES:
            case Native.EPERM:
                return new AccessDeniedException(file, null, reason);
            case Native.EEXIST:
                return new FileAlreadyExistsException(file, null, reason);
            case Native.ENOTDIR:
                return new NotDirectoryException(file);
            default:
                return new FileSystemException(file, null, reason);
        }
    }

    /**
     * Creates a pipe; both ends are close-on-exec.
     *
     * @return the two ends, each owned separately
     * @throws IOException if the pipe cannot be created, with a message such as
     *     {@code "pipe: Too many open files (EMFILE)"}
     * @throws UnsatisfiedLinkError if the native library cannot be loaded
     */
    public static Pipe pipe() throws IOException {
        NativeLoader.ensureLoaded();
        int[] fds;
        try {
            fds = Native.pipe();
        } catch (Native.ErrnoException e) {
            throw e.toPublic(null);
        }
        return new Pipe(new OwnedFd(fds[0]), new OwnedFd(fds[1]));
    }

    /**
     * The descriptor number, for a call that borrows it. The number stays valid only while this
     * object owns it: do not close it, and do not use it after {@link #close()}.
     *
     * @return the descriptor
     * @throws IllegalStateException if closed or released
     */
    public int rawFd() {
        synchronized (state) {
            if (state.ending()) {
                throw new IllegalStateException("the descriptor is closed");
            }
            return state.fd;
        }
    }

    /**
     * Whether this object still owns an open descriptor.
     *
     * @return false after {@link #close()} or {@link #release()}
     */
    public boolean isOpen() {
        synchronized (state) {
            return !state.ending();
        }
    }

    /**
     * Gives up ownership: the caller gets the number and must close it; this object no longer
     * closes anything.
     *
     * <p>A spawn that is using the descriptor ({@link Stdio#fd(OwnedFd)}) holds it: release waits
     * until every such spawn has finished (each takes microseconds to milliseconds), so the caller
     * cannot close the number while a child is being given it. From the moment release begins
     * this object counts as closed: {@link #isOpen()} is false, {@link #rawFd()} fails, a spawn
     * that wants it fails with {@link IllegalStateException}, and a {@link #close()} meanwhile does
     * nothing. The wait is not interruptible; an interrupt that arrives during it stays set.
     *
     * @return the descriptor number
     * @throws IllegalStateException if already closed or released, or being released
     */
    public int release() {
        int fd;
        boolean interrupted = false;
        synchronized (state) {
            if (state.ending()) {
                throw new IllegalStateException("the descriptor is closed");
            }
            state.releasing = true;
            while (state.borrows > 0) {
                try {
                    state.wait(); // unborrow() notifies when the last borrow ends
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            fd = state.fd;
            state.fd = -1;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        cleanable.clean(); // deregisters; the action finds nothing left to close
        return fd;
    }

    /**
     * Closes the descriptor. Only the first call closes; later calls, from any thread, do nothing.
     * Errors from the operating system's {@code close} are ignored: on Linux the descriptor is
     * released whatever {@code close} reports.
     */
    @Override
    public void close() {
        cleanable.clean();
    }

    /**
     * Borrows the descriptor for a spawn: until {@link #unborrow()}, close() only marks it.
     *
     * @return the descriptor, or -1 if closed
     */
    int borrow() {
        synchronized (state) {
            if (state.ending()) {
                return -1;
            }
            state.borrows++;
            return state.fd;
        }
    }

    void unborrow() {
        boolean closeNow;
        synchronized (state) {
            state.borrows--;
            closeNow = state.borrows == 0 && state.closeLater;
            if (state.borrows == 0 && state.releasing) {
                state.notifyAll();
            }
        }
        if (closeNow) {
            state.run();
        }
    }

    /**
     * Like {@code "OwnedFd[5]"}, or {@code "OwnedFd[closed]"}.
     */
    @Override
    public String toString() {
        synchronized (state) {
            return !state.ending() ? "OwnedFd[" + state.fd + "]" : "OwnedFd[closed]";
        }
    }
}
