package dev.forkless.internal;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The JNI surface of the C core ({@code native/include/forkless.h}), and nothing more.
 *
 * <p>Every native method is {@code private static native}, takes primitives and arrays only, and
 * returns what the core returns: {@code >= 0} on success, {@code -errno} on failure. They are bound
 * by {@code RegisterNatives} in the library's {@code JNI_OnLoad} ({@code native/jni/forkless_jni.c}),
 * so the C function names are free and a missing method fails at load time, not at first call.
 * The public static methods here are thin wrappers: they either pass the {@code -errno} through
 * (where the caller has the context for a good message, e.g. a spawn) or throw an
 * {@link ErrnoException} (where the call alone says everything, e.g. a pipe).
 *
 * <p>The {@code static final int} constants mirror the core's enums. {@code javac -h} turns them
 * into {@code #define}s and the glue checks each against the core with {@code _Static_assert}, so
 * the two sides cannot drift apart silently.
 *
 * <p>Loading: the static initializer asks {@link NativeLoader#ensureLoaded()} for the library.
 * {@code JNI_OnLoad} itself looks this class up with {@code FindClass}, which initializes it; when
 * the library is being loaded by {@code NativeLoader} on behalf of someone else (for example
 * {@code Forkless.isAvailable()}), that nested {@code ensureLoaded()} runs in the thread that is
 * already inside {@code System.load}, and {@code NativeLoader} returns from it at once rather than
 * looking for the library a second time (which extracted and mapped a second copy). Nothing here
 * calls a native method during class initialization.
 */
public final class Native {
    // fl_step, in the core's order (forkless.h). Stable numbers.
    /** No failure. */
    public static final int STEP_NONE = 0;
    /** Options rejected before anything was created. */
    public static final int STEP_VALIDATE = 1;
    /** PATH search. */
    public static final int STEP_RESOLVE = 2;
    /** Parent-side allocation. */
    public static final int STEP_PREPARE = 3;
    /** clone3 / clone / fork. */
    public static final int STEP_FORK = 4;
    /** setsid in the child. */
    public static final int STEP_SETSID = 5;
    /** setpgid in the child. */
    public static final int STEP_SETPGID = 6;
    /** setgroups in the child. */
    public static final int STEP_SETGROUPS = 7;
    /** setgid in the child. */
    public static final int STEP_SETGID = 8;
    /** setuid in the child. */
    public static final int STEP_SETUID = 9;
    /** chdir in the child. */
    public static final int STEP_CHDIR = 10;
    /** Resetting signal handlers or the mask in the child. */
    public static final int STEP_SIGNALS = 11;
    /** Moving descriptors onto the child's numbers. */
    public static final int STEP_DUP2 = 12;
    /** Closing every other descriptor. */
    public static final int STEP_CLOSE_FDS = 13;
    /** execve. */
    public static final int STEP_EXEC = 14;
    /** pidfd_open after the spawn. */
    public static final int STEP_PIDFD = 15;
    /** prctl(PR_SET_PDEATHSIG) for a child that dies with its parent. */
    public static final int STEP_PDEATHSIG = 16;
    /** Moving the child into its cgroup (writing cgroup.procs in the child). */
    public static final int STEP_CGROUP = 17;
    /** Windows: writing argv as a command line the child reads back unchanged (batch-file rule). */
    public static final int STEP_COMMAND_LINE = 18;
    /** Windows: creating the child's job object or putting the child in it. */
    public static final int STEP_JOB = 19;
    /** One past the last step the core knows. */
    public static final int STEP_COUNT = 20;

    // fl_spawn_options.flags
    /** setsid() in the child. */
    public static final int SPAWN_NEW_SESSION = 1;
    /** setpgid(0, pgid) in the child. */
    public static final int SPAWN_NEW_PROCESS_GROUP = 1 << 1;
    /** Set the gid. */
    public static final int SPAWN_SET_GID = 1 << 2;
    /** Set the uid. */
    public static final int SPAWN_SET_UID = 1 << 3;
    /** Set the supplementary groups. */
    public static final int SPAWN_SET_GROUPS = 1 << 4;
    /** Use the program as given even without a '/'. */
    public static final int SPAWN_NO_PATH_SEARCH = 1 << 5;
    /** {@code FL_SPAWN_DIE_WITH_PARENT}. */
    public static final int SPAWN_DIE_WITH_PARENT = 1 << 6;
    /** {@code FL_SPAWN_INTO_CGROUP}: the spawn's {@code cgroupFd} is the cgroup to start in. */
    public static final int SPAWN_INTO_CGROUP = 1 << 7;

    // fl_exit_status.kind
    /** The child exited; code is its exit code. */
    public static final int EXITED = 1;
    /** The child was killed by a signal; code is the signal number. */
    public static final int SIGNALED = 2;
    /** Windows: an unhandled exception; the code is its NTSTATUS. */
    public static final int CRASHED = 3;

    // fl_fd_open flags
    /** Open for reading. */
    public static final int OPEN_READ = 1;
    /** Open for writing. */
    public static final int OPEN_WRITE = 1 << 1;
    /** Every write appends. */
    public static final int OPEN_APPEND = 1 << 2;
    /** Create if missing. */
    public static final int OPEN_CREATE = 1 << 3;
    /** With CREATE: fail if it exists. */
    public static final int OPEN_EXCLUSIVE = 1 << 4;
    /** Truncate to zero length. */
    public static final int OPEN_TRUNCATE = 1 << 5;
    /** With {@link #OPEN_READ} only: a directory ({@code O_DIRECTORY}). */
    public static final int OPEN_DIRECTORY = 1 << 6;

    // fl_spawn_strategy
    /** clone3 with CLONE_PIDFD. */
    public static final int STRATEGY_CLONE3 = 1;
    /** clone with CLONE_PIDFD. */
    public static final int STRATEGY_CLONE_PIDFD = 2;
    /** clone, then pidfd_open. */
    public static final int STRATEGY_PIDFD_OPEN = 3;
    /** No pidfd at all. */
    public static final int STRATEGY_PID_ONLY = 4;

    // fl_reactor_backend
    /** {@code fl_reactor_open}: the best backend that works here (io_uring, then epoll). */
    public static final int REACTOR_BEST = 0;
    /** epoll over pidfds plus an eventfd. */
    public static final int REACTOR_EPOLL = 1;
    /** io_uring: POLL_ADD on pidfds. */
    public static final int REACTOR_IO_URING = 2;

    /** Length of one event in the array {@link #reactorWait} fills. */
    public static final int EVENT_LENGTH = 9;
    /** Index in an event: the token given to {@link #reactorAdd} or {@link #reactorWatchFd}. */
    public static final int EVENT_TOKEN = 0;
    /**
     * Index in an event: for an exit, 1 the status is valid, -ECHILD reaped behind our back, other
     * -errno; for a descriptor, 0.
     */
    public static final int EVENT_RESULT = 1;
    /**
     * Index in an event: where the status ({@link #STATUS_LENGTH} values) starts; all zero for a
     * descriptor.
     */
    public static final int EVENT_STATUS = 2;
    /** Index in an event: {@link #EVENT_KIND_EXIT} or {@link #EVENT_KIND_FD}. */
    public static final int EVENT_KIND = 8;
    /** Event kind: a child registered with {@link #reactorAdd} has exited. */
    public static final int EVENT_KIND_EXIT = 0;
    /** Event kind: a descriptor watched with {@link #reactorWatchFd} is ready (or hung up). */
    public static final int EVENT_KIND_FD = 1;

    // fl_reactor_watch_fd directions
    /** Watch for readability (or hang-up, or an error). */
    public static final int WATCH_READ = 1;
    /** Watch for writability (or the reader gone, or an error). */
    public static final int WATCH_WRITE = 2;

    // fl_communicate's result bits
    /** The input became done in this call: close its descriptor now, so the child sees EOF. */
    public static final int IO_INPUT_DONE = 1;
    /** An output's buffer is full (pos == len): drain or replace it, then call again. */
    public static final int IO_FULL = 2;
    /** The last live output became done in this call, or nothing at all is left to do. */
    public static final int IO_OUTPUTS_DONE = 4;
    /** The exit descriptor polled readable: the child has exited; stop passing it. */
    public static final int IO_EXITED = 8;

    /** Length of the {@code state} array of {@link #communicate}. */
    public static final int IO_STATE_LENGTH = 12;
    /** Values per stream in a communicate state array: in at 0, out at 4, err at 8. */
    public static final int IO_STATE_STRIDE = 4;
    /** Offset in a stream's state: bytes written from / read into its buffer so far (in/out). */
    public static final int IO_STATE_POS = 0;
    /** Offset in a stream's state: bytes to write / room to read into, from the buffer's start. */
    public static final int IO_STATE_LEN = 1;
    /** Offset in a stream's state: 1 once done (EOF read, all written, reader gone, or failed). */
    public static final int IO_STATE_DONE = 2;
    /** Offset in a stream's state: the positive errno of a failed read or write, else 0. */
    public static final int IO_STATE_ERR = 3;

    /** Length of the {@code out} array of {@link #spawn}: handle, pid, failed step. */
    public static final int SPAWN_OUT_LENGTH = 3;
    /** Length of {@link #stats}'s out[]. */
    public static final int STATS_LENGTH = 5;
    /** Length of the {@code status} array of {@link #waitFor}. */
    public static final int STATUS_LENGTH = 6;
    /** Index in a status array: {@link #EXITED} or {@link #SIGNALED}. */
    public static final int STATUS_KIND = 0;
    /** Index in a status array: exit code or signal number. */
    public static final int STATUS_CODE = 1;
    /** Index in a status array: 1 if a core was dumped. */
    public static final int STATUS_CORE = 2;
    /** Index in a status array: user CPU time, microseconds. */
    public static final int STATUS_USER_USEC = 3;
    /** Index in a status array: system CPU time, microseconds. */
    public static final int STATUS_SYSTEM_USEC = 4;
    /** Index in a status array: peak resident set size, KiB. */
    public static final int STATUS_MAX_RSS_KIB = 5;

    /** errno values the Java side tests for (Linux numbers; the core reports Linux errno). */
    public static final int EPERM = 1;
    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** No such process. */
    public static final int ESRCH = 3;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** I/O error. */
    public static final int EIO = 5;
    /** Bad file descriptor. */
    public static final int EBADF = 9;
    /** No child processes. */
    public static final int ECHILD = 10;
    /** Resource temporarily unavailable. */
    public static final int EAGAIN = 11;
    /** Out of memory. */
    public static final int ENOMEM = 12;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** File exists. */
    public static final int EEXIST = 17;
    /** Not a directory. */
    public static final int ENOTDIR = 20;
    /** Is a directory. */
    public static final int EISDIR = 21;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** Too many open files. */
    public static final int EMFILE = 24;
    /** Broken pipe: the reading end has gone. */
    public static final int EPIPE = 32;
    /** Device or resource busy. */
    public static final int EBUSY = 16;
    /** Signal 9, for the internal callers that have no {@code Signal}. */
    public static final int SIGKILL = 9;

    static {
        NativeLoader.ensureLoaded();
    }

    private Native() {
    }

    // ---------------------------------------------------------------------------------------
    // The native methods. Keep the list in sync with methods[] in forkless_jni.c.

    private static native int spawn0(byte[] block, int argc, int envc, boolean hasCwd, int[] fdMap,
                                     int flags, int pgid, int uid, int gid, int[] groups, int cgroupFd,
                                     long[] out);

    private static native int spawnDetached0(byte[] block, int argc, int envc, boolean hasCwd,
                                             int[] fdMap, int flags, int pgid, int uid, int gid,
                                             int[] groups, int cgroupFd, long[] out);

    private static native int cgroupSignal0(int cgroupFd, int sig);

    private static native int cgroupPopulated0(int cgroupFd);

    private static native int cgroupCreate0(int parentFd, byte[] name);

    private static native int cgroupRemove0(int parentFd, byte[] name);

    private static native int cgroupClaim0(int cgroupFd, boolean wait);

    private static native int wait0(long handle, int timeoutMillis, long[] status);

    private static native int signal0(long handle, int sig);

    private static native int stats0(long handle, long[] out);

    private static native int signalGroup0(long handle, int sig);

    private static native void close0(long handle);

    private static native int processFd0(long handle);

    private static native int reapOrphans0();

    private static native int spawnStrategy0();

    private static native int open0(byte[] path, int flags, int mode);

    private static native int close1(int fd);

    private static native int pipe0(int[] fds);

    private static native int pipeForChild0(int[] fds, int childEnd);

    private static native byte[] stepName0(int step);

    private static native byte[] errnoName0(int errno);

    private static native byte[] strerror0(int errno);

    private static native byte[] strategyName0(int strategy);

    private static native int reactorOpen0(int backend, long[] out);

    private static native int reactorBackend0(long reactor);

    private static native byte[] reactorBackendName0(int backend);

    private static native int reactorAdd0(long reactor, long process, long token);

    private static native int reactorWait0(long reactor, long[] events, int max, int timeoutMillis);

    private static native int reactorWake0(long reactor);

    private static native int reactorWatchFd0(long reactor, int fd, int direction, long token);

    private static native int reactorUnwatchFd0(long reactor, int fd, long token);

    private static native int setNonBlocking0(int fd, boolean on);

    private static native int read0(int fd, byte[] buf, int off, int len);

    private static native int write0(int fd, byte[] buf, int off, int len);

    private static native int readBuffer0(int fd, ByteBuffer direct, int pos, int len);

    private static native int writeBuffer0(int fd, ByteBuffer direct, int pos, int len);

    private static native int communicate0(int[] fds, ByteBuffer in, ByteBuffer out, ByteBuffer err,
                                           int[] state, int timeoutMillis);

    // ---------------------------------------------------------------------------------------
    // Wrappers.

    /**
     * Starts a child ({@code fl_spawn}).
     *
     * @param block {@code program\0 argv[0]\0 ... argv[argc-1]\0 env[0]\0 ... [cwd\0]}
     * @param argc number of argv strings, at least 1 (argv[0])
     * @param envc number of {@code NAME=value} strings; negative to inherit this process's environ
     * @param hasCwd whether the block ends with a working directory
     * @param fdMap pairs (child fd, parent fd); the child gets exactly these descriptors
     * @param flags {@code SPAWN_*}
     * @param pgid with {@link #SPAWN_NEW_PROCESS_GROUP}
     * @param uid with {@link #SPAWN_SET_UID}
     * @param gid with {@link #SPAWN_SET_GID}
     * @param groups with {@link #SPAWN_SET_GROUPS}; may be null otherwise
     * @param out at least {@link #SPAWN_OUT_LENGTH} long: receives the handle and pid on success,
     *     the failed step ({@code STEP_*}) on failure
     * @return 0, or -errno
     */
    public static int spawn(byte[] block, int argc, int envc, boolean hasCwd, int[] fdMap, int flags,
                            int pgid, int uid, int gid, int[] groups, int cgroupFd, long[] out) {
        return spawn0(block, argc, envc, hasCwd, fdMap, flags, pgid, uid, gid, groups, cgroupFd, out);
    }

    /**
     * Starts a detached process ({@code fl_spawn_detached}): a double fork, the process in a new
     * session, re-parented away from this JVM and never reaped by it. Arguments as for
     * {@link #spawn}; {@code out[0]} (the handle) stays 0, {@code out[1]} is the PID.
     *
     * @return 0, or -errno with {@code out[2]} the failed step
     */
    public static int spawnDetached(byte[] block, int argc, int envc, boolean hasCwd, int[] fdMap,
                                    int flags, int pgid, int uid, int gid, int[] groups, int cgroupFd,
                                    long[] out) {
        return spawnDetached0(block, argc, envc, hasCwd, fdMap, flags, pgid, uid, gid, groups,
                cgroupFd, out);
    }

    /**
     * Sends a signal to every process in a cgroup v2 directory and below it
     * ({@code fl_cgroup_signal}: {@code cgroup.kill} for {@code SIGKILL}, else freeze, signal each,
     * thaw).
     *
     * @param cgroupFd the directory, opened with {@link #OPEN_DIRECTORY}
     * @param sig the signal number
     * @return 0, or -errno (-EINVAL: not a cgroup2 directory or a bad signal number)
     */
    public static int cgroupSignal(int cgroupFd, int sig) {
        return cgroupSignal0(cgroupFd, sig);
    }

    /**
     * Whether a live process is in the cgroup or below ({@code fl_cgroup_populated}).
     *
     * @param cgroupFd the directory
     * @return 1 or 0, or -errno (-EINVAL: not a cgroup2 directory; -ENOENT: the root cgroup)
     */
    public static int cgroupPopulated(int cgroupFd) {
        return cgroupPopulated0(cgroupFd);
    }

    /**
     * Creates and opens the cgroup {@code parentFd/name} ({@code fl_cgroup_create}).
     *
     * @param parentFd a cgroup v2 directory
     * @param name one path component, ASCII
     * @return the new cgroup's descriptor, or -errno (-EACCES/-EPERM: not delegated; -EAGAIN: a
     *     cgroup.max.* limit; -EEXIST)
     */
    public static int cgroupCreate(int parentFd, String name) {
        return cgroupCreate0(parentFd, name.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    /**
     * Removes the empty cgroup {@code parentFd/name} ({@code fl_cgroup_remove}).
     *
     * @return 0, or -errno (-EBUSY: a process is still in it; -ENOENT: gone already)
     */
    public static int cgroupRemove(int parentFd, String name) {
        return cgroupRemove0(parentFd, name.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    /**
     * Claims the cgroup for this process ({@code fl_cgroup_claim}: an exclusive {@code flock} on
     * the directory's open file description, dropped by the kernel when the descriptor is closed
     * or the process dies).
     *
     * @param cgroupFd the directory
     * @param wait block until claimed, else answer -EAGAIN (EWOULDBLOCK) at once
     * @return 0, or -errno (-EAGAIN: claimed by another description; -EINVAL: not a cgroup2
     *     directory)
     */
    public static int cgroupClaim(int cgroupFd, boolean wait) {
        return cgroupClaim0(cgroupFd, wait);
    }

    /**
     * Waits for the child to exit ({@code fl_process_wait}).
     *
     * @param handle a live handle
     * @param timeoutMillis negative: forever; 0: just check
     * @param status at least {@link #STATUS_LENGTH} long; filled when the result is 1
     * @return 1 exited, 0 timed out, -errno (-EINTR: interrupted by a signal handler)
     */
    public static int waitFor(long handle, int timeoutMillis, long[] status) {
        return wait0(handle, timeoutMillis, status);
    }

    /**
     * Sends a signal ({@code fl_process_signal}).
     *
     * @param handle a live handle
     * @param sig the signal number; 0 only checks
     * @return 0 sent, -ESRCH already exited (a recycled PID is never signalled), other -errno
     */
    public static int signal(long handle, int sig) {
        return signal0(handle, sig);
    }

    /**
     * Signals the child's process group ({@code fl_process_signal_group}).
     *
     * @param handle a live handle
     * @param sig the signal number
     * @return 0 sent; -ESRCH once the leader is reaped; -EINVAL if it does not lead its own group
     */
    public static int signalGroup(long handle, int sig) {
        return signalGroup0(handle, sig);
    }

    /**
     * Live statistics of a running child ({@code fl_process_stats}).
     *
     * @param handle a live handle
     * @param out at least {@link #STATS_LENGTH} long: state (a character), threads, user and
     *     system CPU microseconds, RSS in KiB
     * @return 0; -ESRCH once the child has exited; -ENOSYS without procfs; other -errno
     */
    public static int stats(long handle, long[] out) {
        return stats0(handle, out);
    }

    /**
     * Releases a handle ({@code fl_process_close}); an unreaped child goes to the orphan list.
     * Must be the last call on the handle.
     *
     * @param handle a live handle
     */
    public static void close(long handle) {
        close0(handle);
    }

    /**
     * The descriptor that becomes readable when the child exits, owned by the handle.
     *
     * @param handle a live handle
     * @return the pidfd, or -1 when the spawn strategy has none
     */
    public static int processFd(long handle) {
        return processFd0(handle);
    }

    /**
     * Reaps every orphaned child that has exited.
     *
     * @return how many orphans remain
     */
    public static int reapOrphans() {
        return reapOrphans0();
    }

    /**
     * The spawn strategy in use ({@code STRATEGY_*}).
     *
     * @return the strategy number
     */
    public static int spawnStrategy() {
        return spawnStrategy0();
    }

    /**
     * Opens a file, close-on-exec.
     *
     * @param path the path's bytes, without a terminator
     * @param flags {@code OPEN_*}
     * @param mode permission bits when a file is created
     * @return the descriptor, or -errno
     */
    public static int open(byte[] path, int flags, int mode) {
        return open0(path, flags, mode);
    }

    /**
     * Closes a descriptor.
     *
     * @param fd the descriptor
     * @return 0, or -errno (the descriptor is gone either way on Linux)
     */
    public static int closeFd(int fd) {
        return close1(fd);
    }

    /**
     * Creates a close-on-exec pipe.
     *
     * @return {read end, write end}
     * @throws ErrnoException if the pipe could not be created (EMFILE, ENFILE)
     */
    public static int[] pipe() throws ErrnoException {
        int[] fds = new int[2];
        int rc = pipe0(fds);
        if (rc < 0) {
            throw new ErrnoException("pipe", -rc);
        }
        return fds;
    }

    /**
     * A pipe for a child's standard stream ({@code fl_fd_pipe_for_child}): end {@code childEnd}
     * goes to the child, the other stays here, to be made non-blocking and watched. Linux: as
     * {@link #pipe()}. Windows: this process's end is overlapped, the child's synchronous.
     *
     * @param childEnd 0 (the child reads: its stdin) or 1 (the child writes)
     * @return {read end, write end}
     * @throws ErrnoException e.g. {@code EMFILE}
     */
    public static int[] pipeForChild(int childEnd) throws ErrnoException {
        int[] fds = new int[2];
        int rc = pipeForChild0(fds, childEnd);
        if (rc < 0) {
            throw new ErrnoException("pipe", -rc);
        }
        return fds;
    }

    /**
     * The core's name of a spawn step.
     *
     * @param step a {@code STEP_*} value
     * @return e.g. {@code "execve"}, {@code "chdir"}; {@code "unknown"} out of range
     */
    public static String stepName(int step) {
        byte[] b = stepName0(step);
        return b == null ? "unknown" : NativeStrings.decode(b);
    }

    /**
     * The symbolic name of an errno value.
     *
     * @param errno a positive errno value
     * @return e.g. {@code "ENOENT"}; {@code "errno <n>"} when the core does not know it
     */
    public static String errnoName(int errno) {
        byte[] b = errnoName0(errno);
        return b == null ? "errno " + errno : NativeStrings.decode(b);
    }

    /**
     * The C library's description of an errno value.
     *
     * @param errno a positive errno value
     * @return e.g. {@code "No such file or directory"}
     */
    public static String strerror(int errno) {
        byte[] b = strerror0(errno);
        return b == null ? "Unknown error " + errno : NativeStrings.decode(b);
    }

    /**
     * The core's name of a spawn strategy.
     *
     * @param strategy a {@code STRATEGY_*} value
     * @return the name, {@code "unknown"} when out of range
     */
    public static String strategyName(int strategy) {
        byte[] b = strategyName0(strategy);
        return b == null ? "unknown" : NativeStrings.decode(b);
    }

    /**
     * Opens a reactor ({@code fl_reactor_open}).
     *
     * @param backend {@code REACTOR_*}
     * @param out at least 1 long: receives the {@code fl_reactor*} on success
     * @return 0, or -errno (-ENOSYS, -EPERM: this kernel or a seccomp filter refuses the backend)
     */
    public static int reactorOpen(int backend, long[] out) {
        return reactorOpen0(backend, out);
    }

    /**
     * The backend of an open reactor ({@code fl_reactor_backend}).
     *
     * @param reactor an open reactor
     * @return {@link #REACTOR_EPOLL} or {@link #REACTOR_IO_URING}
     */
    public static int reactorBackend(long reactor) {
        return reactorBackend0(reactor);
    }

    /**
     * The core's name of a reactor backend.
     *
     * @param backend a {@code REACTOR_*} value
     * @return {@code "epoll"}, {@code "io_uring"}; {@code "unknown"} otherwise
     */
    public static String reactorBackendName(int backend) {
        byte[] b = reactorBackendName0(backend);
        return b == null ? "unknown" : NativeStrings.decode(b);
    }

    /**
     * Starts watching a process ({@code fl_reactor_add}); its exit is reported once, with token.
     * The caller must hold a use of the process handle for the duration of the call.
     *
     * @param reactor an open reactor
     * @param process a live process handle
     * @param token reported with the exit
     * @return 0, or -errno (-EEXIST, -ENOMEM, -EAGAIN)
     */
    public static int reactorAdd(long reactor, long process, long token) {
        return reactorAdd0(reactor, process, token);
    }

    /**
     * Waits for exits and descriptor reports ({@code fl_reactor_wait}); one thread at a time.
     *
     * @param reactor an open reactor
     * @param events at least {@code max * EVENT_LENGTH} long; receives the events, each
     *     {@link #EVENT_LENGTH} values: token, result, a status as {@link #waitFor} fills it, then
     *     the kind ({@link #EVENT_KIND})
     * @param max the most events to return
     * @param timeoutMillis negative: forever; 0: just check
     * @return how many events were stored (0 on timeout or wake-up), -EINTR, other -errno
     */
    public static int reactorWait(long reactor, long[] events, int max, int timeoutMillis) {
        return reactorWait0(reactor, events, max, timeoutMillis);
    }

    /**
     * Makes a current or the next {@link #reactorWait} return ({@code fl_reactor_wake}).
     *
     * @param reactor an open reactor
     * @return 0, or -errno
     */
    public static int reactorWake(long reactor) {
        return reactorWake0(reactor);
    }

    /**
     * Watches a descriptor once ({@code fl_reactor_watch_fd}): {@link #reactorWait} reports the
     * token with {@link #EVENT_KIND_FD} when {@code fd} is readable or writable, or has hung up or
     * failed (the next read or write tells which). Watch again after the report to hear of it
     * again. Any thread, also while another waits. The caller keeps {@code fd} open until
     * {@link #reactorUnwatchFd} has returned.
     *
     * @param reactor an open reactor
     * @param fd a descriptor the caller owns
     * @param direction {@link #WATCH_READ} or {@link #WATCH_WRITE}
     * @param token reported with the event; any value
     * @return 0, or -errno (-EEXIST: {@code fd} is armed already, whatever the token; -EINVAL;
     *     -ENOMEM; -EPERM: not pollable, e.g. a regular file)
     */
    public static int reactorWatchFd(long reactor, int fd, int direction, long token) {
        return reactorWatchFd0(reactor, fd, direction, token);
    }

    /**
     * Forgets the watch of {@code fd} made with {@code token}, armed or already reported
     * ({@code fl_reactor_unwatch_fd}); call it before closing {@code fd}. A report a concurrent
     * {@link #reactorWait} has already collected may still arrive afterwards: ignore tokens no
     * longer known.
     *
     * @param reactor an open reactor
     * @param fd the watched descriptor
     * @param token the token of its latest watch
     * @return 0 (also when {@code fd} is not watched at all); -ENOENT when {@code fd} is watched
     *     under another token (that watch stays); other -errno if a still-armed poll could not be
     *     cancelled (the watch is forgotten anyway)
     */
    public static int reactorUnwatchFd(long reactor, int fd, long token) {
        return reactorUnwatchFd0(reactor, fd, token);
    }

    /**
     * Sets or clears {@code O_NONBLOCK} ({@code fl_fd_set_nonblocking}).
     *
     * @param fd the descriptor
     * @param on true for non-blocking
     * @return 0, or -errno
     */
    public static int setNonBlocking(int fd, boolean on) {
        return setNonBlocking0(fd, on);
    }

    /**
     * One {@code read(2)} into {@code buf[off, off + len)} ({@code fl_fd_read}). The descriptor
     * must be non-blocking: the array is held in a JNI critical region during the call, which
     * stalls the garbage collector while it lasts.
     *
     * @param fd a non-blocking descriptor
     * @param buf the destination
     * @param off where in buf
     * @param len the most bytes to read, at least 1 (0 would read 0, which means end of file)
     * @return the bytes read, 0 at end of file, or -errno (-EAGAIN: nothing there yet; -EINVAL: the
     *     range is outside buf)
     */
    public static int read(int fd, byte[] buf, int off, int len) {
        return read0(fd, buf, off, len);
    }

    /**
     * One {@code write(2)} from {@code buf[off, off + len)} ({@code fl_fd_write}); never raises
     * SIGPIPE. The descriptor must be non-blocking (see {@link #read}).
     *
     * @param fd a non-blocking descriptor
     * @param buf the source
     * @param off where in buf
     * @param len how many bytes to offer
     * @return the bytes written (possibly fewer than len), or -errno (-EAGAIN: the pipe is full;
     *     -EPIPE: the reader has gone; -EINVAL: the range is outside buf)
     */
    public static int write(int fd, byte[] buf, int off, int len) {
        return write0(fd, buf, off, len);
    }

    /**
     * One {@code read(2)} into a direct buffer's bytes {@code [pos, pos + len)}, addressed from
     * the buffer's start (its position and limit are neither read nor changed).
     *
     * @param fd the descriptor (may block if it is blocking; no JNI resource is held)
     * @param direct a direct buffer
     * @param pos the first byte to fill
     * @param len the most bytes to read, at least 1
     * @return the bytes read, 0 at end of file, or -errno (-EINVAL: not direct, or out of range)
     */
    public static int readBuffer(int fd, ByteBuffer direct, int pos, int len) {
        return readBuffer0(fd, direct, pos, len);
    }

    /**
     * One {@code write(2)} from a direct buffer's bytes {@code [pos, pos + len)}, addressed from
     * the buffer's start; never raises SIGPIPE.
     *
     * @param fd the descriptor
     * @param direct a direct buffer
     * @param pos the first byte to write
     * @param len how many bytes to offer
     * @return the bytes written, or -errno (-EAGAIN, -EPIPE; -EINVAL: not direct, or out of range)
     */
    public static int writeBuffer(int fd, ByteBuffer direct, int pos, int len) {
        return writeBuffer0(fd, direct, pos, len);
    }

    /**
     * One step of feeding a child's stdin while draining its stdout and stderr in this thread
     * ({@code fl_communicate}). Returns when the caller has something to do; call again to go on.
     * Every live stream's descriptor is made non-blocking.
     *
     * @param fds {in, out, err, exit}: the parent's pipe ends and an exit descriptor (a pidfd);
     *     -1 for one not used. Stop passing exit once {@link #IO_EXITED} was reported
     * @param in direct buffer holding the input at {@code [0, len)}, addressed from its start
     *     (position and limit are ignored); may be null when fds[0] is -1 or the stream is done
     * @param out direct buffer receiving stdout at {@code [pos, len)}; likewise
     * @param err direct buffer receiving stderr; likewise
     * @param state {@link #IO_STATE_LENGTH} ints, {@link #IO_STATE_STRIDE} per stream (in, out,
     *     err): pos, len, done, err ({@code IO_STATE_*}); read before the call, pos/done/err written
     *     back after it whatever it returns. A stream with done set is left alone
     * @param timeoutMillis negative: until something happens; 0: one pass without waiting
     * @return a mask of {@code IO_*} bits; 0 on timeout; -EINTR (a signal handler ran: check
     *     for interruption and call again); -EINVAL (bad buffers or state); other -errno
     */
    public static int communicate(int[] fds, ByteBuffer in, ByteBuffer out, ByteBuffer err,
                                  int[] state, int timeoutMillis) {
        return communicate0(fds, in, out, err, state, timeoutMillis);
    }

    /**
     * {@code "No such file or directory (ENOENT)"}: the description and name of an errno value,
     * the shape every Forkless message uses.
     *
     * @param errno a positive errno value
     * @return the text
     */
    public static String describe(int errno) {
        return strerror(errno) + " (" + errnoName(errno) + ")";
    }

    /**
     * Fails with an {@link ErrnoException} if {@code rc} is negative.
     *
     * @param rc a core result
     * @param what the operation, for the message
     * @return rc when it is not negative
     * @throws ErrnoException for a negative rc
     */
    public static int check(int rc, String what) throws ErrnoException {
        if (rc < 0) {
            throw new ErrnoException(what, -rc);
        }
        return rc;
    }

    /**
     * A plain {@link IOException} for a failure that reaches a caller of the public API, with the
     * message {@code "<what>: <strerror> (<ENAME>)"}. {@link ErrnoException} is internal: it must
     * never reach a caller, not even as a cause.
     *
     * @param what the operation that failed
     * @param errno the positive errno value
     * @return the exception
     */
    public static IOException ioException(String what, int errno) {
        return new IOException(what + ": " + describe(errno));
    }

    /**
     * An {@link IOException} for a failed native call that carries its errno. Internal: code that
     * lets a failure go on to a caller of the public API turns it into a plain one with
     * {@link #toPublic(String)} or builds one with {@link Native#ioException}.
     */
    public static final class ErrnoException extends IOException {
        private static final long serialVersionUID = 1L;
        /** The positive errno value. */
        private final int errno;

        /**
         * Creates one; the message is {@code "<what>: <strerror> (<ENAME>)"}.
         *
         * @param what the operation that failed
         * @param errno the positive errno value
         */
        public ErrnoException(String what, int errno) {
            super(what + ": " + describe(errno));
            this.errno = errno;
        }

        /**
         * The errno value.
         *
         * @return a positive errno value
         */
        public int errno() {
            return errno;
        }

        /**
         * The same failure as a plain {@link IOException} without this one as its cause, for a
         * caller of the public API.
         *
         * @param context prepended to the message with {@code ": "}; null for none
         * @return the exception
         */
        public IOException toPublic(String context) {
            return new IOException(context == null ? getMessage() : context + ": " + getMessage());
        }
    }
}
