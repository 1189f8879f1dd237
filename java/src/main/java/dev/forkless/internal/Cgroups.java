package dev.forkless.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Cgroup v2 leaves for the whole-tree kill: each child that asks for one is spawned straight into
 * a leaf of its own ({@code CLONE_INTO_CGROUP}), which everything it starts inherits and which
 * only a process with write access to the cgroup tree can leave (a {@code setsid} daemon cannot).
 *
 * <p>Layout: {@code <base>/forkless-<jvm pid>-<random>/c<n>}. The base is the cgroup named by
 * the system property {@value #PROPERTY}, else this JVM's own cgroup (from
 * {@code /proc/self/cgroup} and the cgroup2 mount in {@code /proc/self/mountinfo}): it works
 * where this JVM may create cgroups there, that is as root, or in a cgroup delegated to its user
 * (a systemd service with {@code Delegate=yes}, {@code systemd-run --user -p Delegate=yes}, a
 * container with a private cgroup namespace). Decided once, on first use, by really creating the
 * JVM's directory; the reason is kept when it cannot be had. A spawn the kernel refuses into a
 * leaf (no write access to {@code cgroup.procs}, say) makes cgroups unavailable from then on, with
 * that reason.
 *
 * <p>Removal: a leaf is removed when its child's handle is released and no process is left in
 * it (the kernel refuses {@code rmdir} while one is: {@code EBUSY}); leaves still populated then
 * are retried by the reactor's periodic turn ({@link #removeEmptyLeaves()}) and by a shutdown
 * hook. Directories left by a JVM that was killed are removed by the next JVM that finds them
 * empty.
 *
 * <p>Who may sweep a directory: its owner <em>claims</em> it for its whole life, an exclusive
 * {@code flock} on the descriptor it keeps open ({@code fl_cgroup_claim}), taken right after the
 * {@code mkdir}. The kernel drops the claim when the JVM dies, however it dies, and the claim is
 * seen through every mount and PID namespace (cgroupfs has one inode per cgroup). A sweeping JVM
 * removes a {@code forkless-<pid>-*} directory only if it can claim it without waiting, and
 * holds that claim while it removes the empty leaves and the directory. The PID in the name is
 * not proof of anything: a JVM in another PID namespace shows a number that means nothing here
 * (judging by it removed live JVMs' directories); it is still consulted, as a second condition,
 * for directories of Forkless versions that did not claim theirs. An owner that loses the race
 * between its {@code mkdir} and its claim (a sweeper claimed and removed the fresh directory)
 * notices, because its claim is only granted after the sweeper's, and starts over with a new
 * name.
 *
 * <p>What the user is told: a {@link #PROPERTY} that cannot be used is a {@code WARNING} on the
 * logger {@code dev.forkless} when it is first needed; a {@code TreeKill.AUTO} child that gets a
 * process group instead of a cgroup is a {@code WARNING} once per JVM (the first time), with the
 * reason and what to do. Both at most once per JVM, together.
 */
public final class Cgroups {
    /** System property: the cgroup v2 directory under which this JVM makes its leaves. */
    public static final String PROPERTY = "forkless.cgroup";

    private static final System.Logger LOG = LazyLogger.FORKLESS;
    private static final String JVM_DIR_PREFIX = "forkless-";
    private static final String DIE_DIR = "die";

    private static final Object LOCK = new Object();
    private static volatile boolean decided;
    // Written once by decide() before `decided`, read after it: safely published by the volatile.
    private static Path jvmDir;         // null until made
    private static int jvmDirFd = -1;   // open for the JVM's life
    private static Path dieDir;         // guarded by LOCK; <jvmDir>/die, made with its first leaf
    private static int dieDirFd = -1;   // guarded by LOCK
    private static String reason;       // guarded by LOCK; why not, when unavailable
    private static int reasonErrno;     // guarded by LOCK

    private static final AtomicLong COUNTER = new AtomicLong();
    /** Set once the JVM's one warning about cgroups has been logged. */
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    /** How many names decide() tries when sweepers remove its fresh directories. */
    private static final int CREATE_ATTEMPTS = 5;
    /** Leaves not yet removed: those in use and those released while still populated. */
    private static final Set<Leaf> LEAVES = ConcurrentHashMap.newKeySet();
    private static final Set<Leaf> RELEASED_POPULATED = ConcurrentHashMap.newKeySet();

    private Cgroups() {
    }

    /** Thrown when no leaf can be made; the message says why, {@link #errno()} the system's word. */
    public static final class UnavailableException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int errno;

        UnavailableException(String message, int errno) {
            super(message, null, false, false);
            this.errno = errno;
        }

        /** The errno behind the reason. */
        public int errno() {
            return errno;
        }
    }

    /** The directory this JVM makes its leaves in, if cgroups can be had; decides on first use. */
    public static Optional<Path> directory() {
        decide();
        synchronized (LOCK) {
            return reason == null ? Optional.of(jvmDir) : Optional.empty();
        }
    }

    /** Why cgroups cannot be had, if they cannot; decides on first use. */
    public static Optional<String> unavailableReason() {
        decide();
        synchronized (LOCK) {
            return Optional.ofNullable(reason);
        }
    }

    /**
     * Records that a spawn into a leaf was refused, so later spawns do not try again.
     *
     * @param why what was refused, with the errno
     * @param errno the errno
     */
    public static void markUnavailable(String why, int errno) {
        boolean first;
        synchronized (LOCK) {
            first = reason == null;
            if (first) {
                reason = why;
                reasonErrno = errno;
            }
        }
        if (first) {
            warnOnce("TreeKill.AUTO: " + why + "; from now on " + FALLBACK + ". " + REMEDY);
        }
    }

    /** What AUTO children lose with the process group, for the warnings. */
    private static final String FALLBACK = "children spawned with TreeKill.AUTO or CloseAction.KILL_TREE"
            + " get a process group instead of a cgroup: killTree(), terminateTree() and close() miss"
            + " descendants that call setsid (daemons) and whatever outlives the reaped child, and after"
            + " a SIGKILL of this JVM the descendants of dieWithParent() children run on";
    /** What the user can do about it, for the warnings. */
    private static final String REMEDY = "To get cgroups, run this JVM in a cgroup v2 subtree delegated to"
            + " its user (a systemd unit with Delegate=yes, systemd-run --user -p Delegate=yes, a container"
            + " with its own writable cgroup namespace) or name a writable one with -D" + PROPERTY
            + "=<directory>; TreeKill.PROCESS_GROUP chooses the process group without this warning";

    /**
     * Says, once per JVM, that a {@code TreeKill.AUTO} child got no cgroup: called by the spawn
     * when {@link #newLeaf} failed and it falls back to the process group.
     *
     * @param why the failure
     */
    public static void autoFallsBack(UnavailableException why) {
        warnOnce("TreeKill.AUTO: no cgroup for this child (" + why.getMessage() + "); " + FALLBACK + ". "
                + REMEDY);
    }

    private static void warnOnce(String message) {
        if (WARNED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, message);
        }
    }

    /**
     * Makes a new empty leaf and opens it.
     *
     * @param dieWithJvm put it under {@link #dieDirectory()}, whose whole content is killed when
     *     this JVM ends
     * @return the leaf; its owner must {@link Leaf#release()} it
     * @throws UnavailableException if cgroups cannot be had here, or this leaf cannot be made
     */
    public static Leaf newLeaf(boolean dieWithJvm) throws UnavailableException {
        decide();
        Path parent;
        int parentFd;
        synchronized (LOCK) {
            if (reason != null) {
                throw new UnavailableException(reason, reasonErrno);
            }
            if (dieWithJvm && dieDirFd < 0) {
                int fd = Native.cgroupCreate(jvmDirFd, DIE_DIR);
                if (fd < 0 && fd != -Native.EEXIST) {
                    throw unavailable(jvmDir.resolve(DIE_DIR), fd);
                }
                dieDir = jvmDir.resolve(DIE_DIR);
                dieDirFd = fd >= 0 ? fd : openDir(dieDir);
            }
            parent = dieWithJvm ? dieDir : jvmDir;
            parentFd = dieWithJvm ? dieDirFd : jvmDirFd;
        }
        String name = "c" + COUNTER.incrementAndGet();
        int fd = Native.cgroupCreate(parentFd, name);
        if (fd < 0) {
            // For this leaf, not for good: cgroup.max.descendants reached (EAGAIN), memory, ...
            throw unavailable(parent.resolve(name), fd);
        }
        Leaf leaf = new Leaf(parent, parentFd, name, fd);
        LEAVES.add(leaf);
        return leaf;
    }

    /**
     * The cgroup that holds the leaves of dieWithParent children: everything in it is killed when
     * this JVM ends, by a shutdown hook on a normal exit and by a watchdog otherwise.
     *
     * @return the directory, once such a leaf has been made
     */
    public static Optional<Path> dieDirectory() {
        synchronized (LOCK) {
            return Optional.ofNullable(dieDir);
        }
    }

    private static UnavailableException unavailable(Path dir, int rc) {
        return new UnavailableException("cannot create the cgroup " + dir + ": " + Native.errnoName(-rc) + " ("
                + Native.strerror(-rc) + ")", -rc);
    }

    private static int openDir(Path dir) {
        return Native.open(NativeStrings.encode(dir, "cgroup"), Native.OPEN_READ | Native.OPEN_DIRECTORY, 0);
    }

    /**
     * Removes released leaves whose last process has exited. Cheap when there are none; called by
     * the reactor thread about once a second.
     */
    public static void removeEmptyLeaves() {
        if (RELEASED_POPULATED.isEmpty()) {
            return;
        }
        for (Leaf leaf : RELEASED_POPULATED) {
            if (leaf.remove()) {
                RELEASED_POPULATED.remove(leaf);
            }
        }
    }

    /** One child's cgroup: its directory and a descriptor of it while the child's handle is open. */
    public static final class Leaf {
        private final Path parent;
        private final int parentFd; // the JVM's or the die directory's: open for the JVM's life
        private final String name;
        private int fd; // guarded by this; -1 once released

        Leaf(Path parent, int parentFd, String name, int fd) {
            this.parent = parent;
            this.parentFd = parentFd;
            this.name = name;
            this.fd = fd;
        }

        /** The directory. */
        public Path path() {
            return parent.resolve(name);
        }

        /** The descriptor for the spawn; only while not released. */
        public synchronized int fd() {
            return fd;
        }

        /**
         * Sends a signal to every process in the leaf.
         *
         * @param sig the signal number
         * @return 1 if sent, 0 if nobody was left to receive it, or -errno (-EBADF once released)
         */
        public synchronized int signal(int sig) {
            if (fd < 0) {
                return -Native.EBADF;
            }
            int populated = Native.cgroupPopulated(fd);
            if (populated <= 0) {
                return populated;
            }
            int rc = Native.cgroupSignal(fd, sig);
            return rc < 0 ? rc : 1;
        }

        /**
         * The PIDs in the leaf now ({@code cgroup.procs}; the leaf has no child cgroups of ours).
         *
         * @return the PIDs; empty once released or removed
         */
        public long[] members() {
            try {
                return Files.readAllLines(path().resolve("cgroup.procs"), StandardCharsets.US_ASCII).stream()
                        .filter(l -> !l.isBlank()).mapToLong(l -> Long.parseLong(l.trim())).toArray();
            } catch (IOException | NumberFormatException e) {
                return new long[0];
            }
        }

        /** 1 while a live process is in the leaf, 0 when none, or -errno. */
        public synchronized int populated() {
            return fd < 0 ? -Native.EBADF : Native.cgroupPopulated(fd);
        }

        /**
         * Waits until no live process is in the leaf, polling (the kernel's notification needs a
         * poll for POLLPRI, which the reactor does not offer; the wait follows a kill and is short).
         *
         * @param nanos at most this long; {@link Long#MAX_VALUE} (or anything beyond what
         *     {@code nanoTime} can add) waits as long as it takes
         * @return true if empty
         */
        public boolean awaitEmpty(long nanos) {
            return awaitUnpopulated(this::populated, nanos);
        }

        /**
         * Closes the descriptor and removes the directory, now if it is empty, else once it is.
         * Idempotent.
         */
        public void release() {
            synchronized (this) {
                if (fd < 0) {
                    return;
                }
                Native.closeFd(fd);
                fd = -1;
            }
            if (!remove()) {
                RELEASED_POPULATED.add(this);
            }
        }

        /** rmdir: true once gone; false while a process is in it (EBUSY) or it cannot go. */
        private boolean remove() {
            int rc = Native.cgroupRemove(parentFd, name);
            if (rc == 0 || rc == -Native.ENOENT) {
                LEAVES.remove(this);
                return true;
            }
            return false;
        }

        @Override
        public String toString() {
            return path().toString();
        }
    }

    // ---------------------------------------------------------------------------------------

    private static void decide() {
        if (decided) {
            return;
        }
        synchronized (LOCK) {
            if (decided) {
                return;
            }
            try {
                Path base = base();
                int baseFd = openCgroup2(base, base.toString());
                try {
                    createJvmDir(base, baseFd);
                    checkTakesProcesses();
                    removeStale(base, baseFd);
                } finally {
                    Native.closeFd(baseFd);
                }
                Runtime.getRuntime().addShutdownHook(new Thread(Cgroups::atShutdown, "forkless-cgroups"));
            } catch (UnavailableException e) {
                reason = e.getMessage();
                reasonErrno = e.errno();
                String configured = System.getProperty(PROPERTY);
                if (configured != null && !configured.isEmpty()) {
                    // The user asked for this directory: say so now, not at some AUTO spawn.
                    warnOnce("-D" + PROPERTY + "=" + configured + " cannot be used: " + reason + ". "
                            + "TreeKill.CGROUP spawns fail with this reason; " + FALLBACK + ". " + REMEDY);
                } else {
                    LOG.log(System.Logger.Level.DEBUG, "cgroup tree kill unavailable: " + reason);
                }
            }
            decided = true;
        }
    }

    /**
     * Makes and claims {@code forkless-<pid>-<random>} under base. The claim is taken after the
     * mkdir, so a sweeping JVM can claim and remove the fresh directory first; the blocking claim
     * then returns once the sweeper lets go, the directory is found gone, and a new name is tried.
     */
    private static void createJvmDir(Path base, int baseFd) throws UnavailableException {
        for (int attempt = 1;; attempt++) {
            String name = JVM_DIR_PREFIX + ProcessHandle.current().pid() + "-"
                    + Integer.toHexString(ThreadLocalRandom.current().nextInt() | 0x10000000);
            int fd = Native.cgroupCreate(baseFd, name);
            if (fd < 0) {
                UnavailableException e = unavailable(base.resolve(name), fd);
                if (fd == -Native.EACCES || fd == -Native.EPERM) {
                    e = new UnavailableException(e.getMessage() + "; the cgroup is not delegated to"
                            + " this user (set " + PROPERTY + " to one that is)", -fd);
                }
                throw e;
            }
            int claimed = Native.cgroupClaim(fd, true);
            if (claimed < 0) {
                // Not expected (flock works on every cgroupfs): the directory stays usable, but
                // another JVM may sweep it while it is empty and this JVM's PID is not its own.
                LOG.log(System.Logger.Level.DEBUG, "cannot claim " + base.resolve(name) + ": "
                        + Native.errnoName(-claimed) + "; it is protected by its PID only");
            }
            if (Native.cgroupPopulated(fd) != -Native.ENOENT) {
                jvmDirFd = fd;
                jvmDir = base.resolve(name);
                return;
            }
            Native.closeFd(fd); // swept between the mkdir and the claim
            if (attempt == CREATE_ATTEMPTS) {
                throw new UnavailableException("the cgroup directories this JVM made under " + base
                        + " were removed at once, " + CREATE_ATTEMPTS + " times (by what?)", Native.ENOENT);
            }
        }
    }

    /** The cgroup under which this JVM's directory goes. */
    private static Path base() throws UnavailableException {
        String configured = System.getProperty(PROPERTY);
        if (configured != null && !configured.isEmpty()) {
            return Path.of(configured);
        }
        String own = null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"), StandardCharsets.UTF_8)) {
                if (line.startsWith("0::")) {
                    own = line.substring(3);
                }
            }
        } catch (IOException e) {
            throw new UnavailableException("cannot read /proc/self/cgroup: " + e, Native.EIO);
        }
        if (own == null) {
            throw new UnavailableException("this JVM is in no cgroup v2 hierarchy (/proc/self/cgroup has no"
                    + " \"0::\" line: cgroup v1 only); set " + PROPERTY, Native.ENOENT);
        }
        return ownCgroupDir(own);
    }

    /**
     * Where the cgroup2 file system shows this JVM's cgroup: the mount (from mountinfo) whose root
     * is a prefix of it, the rest appended. In a cgroup namespace both are relative to its root.
     */
    private static Path ownCgroupDir(String own) throws UnavailableException {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UnavailableException("cannot read /proc/self/mountinfo: " + e, Native.EIO);
        }
        for (String line : lines) {
            // id parent major:minor root mountpoint options [optional fields] - fstype source super
            int dash = line.indexOf(" - ");
            if (dash < 0 || !line.startsWith("cgroup2 ", dash + 3)) {
                continue;
            }
            String[] f = line.substring(0, dash).split(" ");
            if (f.length < 5) {
                continue;
            }
            String root = unescape(f[3]);
            String point = unescape(f[4]);
            String rest;
            if (root.equals("/")) {
                rest = own;
            } else if (own.equals(root) || own.startsWith(root + "/")) {
                rest = own.substring(root.length());
            } else {
                continue;
            }
            return Path.of(point + "/" + rest).normalize();
        }
        throw new UnavailableException("no cgroup2 file system is mounted where this JVM's cgroup " + own
                + " can be seen (/proc/self/mountinfo); set " + PROPERTY, Native.ENOENT);
    }

    /** mountinfo writes space, tab, newline and backslash as a backslash and three octal digits. */
    private static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException notAnEscape) {
                    // keep the backslash
                }
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /** Opens dir, which must be a cgroup v2 directory (the root cgroup included). */
    private static int openCgroup2(Path dir, String what) throws UnavailableException {
        String named = System.getProperty(PROPERTY) != null ? PROPERTY + "=" + what : "this JVM's cgroup " + what;
        int fd = openDir(dir);
        if (fd < 0) {
            throw new UnavailableException(named + ": cannot open it: " + Native.errnoName(-fd) + " ("
                    + Native.strerror(-fd) + ")", -fd);
        }
        // -ENOENT: the root cgroup (no cgroup.events), which is fine as a base.
        if (Native.cgroupPopulated(fd) == -Native.EINVAL) {
            Native.closeFd(fd);
            throw new UnavailableException(named + " is not a directory of a cgroup v2 file system",
                    Native.EINVAL);
        }
        return fd;
    }

    /** A cgroup in a threaded subtree cannot take processes of its own ("domain invalid"). */
    private static void checkTakesProcesses() throws UnavailableException {
        String type;
        try {
            type = Files.readString(jvmDir.resolve("cgroup.type"), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            type = "unreadable: " + e;
        }
        if (!type.equals("domain")) {
            Native.closeFd(jvmDirFd);
            jvmDirFd = -1;
            removeJvmDir();
            throw new UnavailableException("the cgroup " + jvmDir + " cannot take processes (cgroup.type: "
                    + type + ")", Native.EINVAL);
        }
    }

    /**
     * Directories of JVMs that are gone, with their empty leaves: best effort. Gone means that
     * the directory's claim is free (see the class comment); for directories of versions that did
     * not claim theirs, also that no process here has the PID in the name.
     */
    private static void removeStale(Path base, int baseFd) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base, JVM_DIR_PREFIX + "*-*")) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                long pid;
                try {
                    pid = Long.parseLong(name.substring(JVM_DIR_PREFIX.length(),
                            name.indexOf('-', JVM_DIR_PREFIX.length())));
                } catch (NumberFormatException | IndexOutOfBoundsException e) {
                    continue;
                }
                if (dir.equals(jvmDir)) {
                    continue;
                }
                int fd = openDir(dir);
                if (fd < 0) {
                    continue; // removed meanwhile, or not ours to open
                }
                try {
                    if (Native.cgroupClaim(fd, false) != 0 || ProcessHandle.of(pid).isPresent()) {
                        continue; // claimed by a live JVM; or an unclaimed one whose PID lives here
                    }
                    // Held until the directory is gone: its owner, if it has only just made it,
                    // waits for the claim and then finds it removed (createJvmDir).
                    removeEmptySubdirs(dir.resolve(DIE_DIR));
                    removeEmptySubdirs(dir);
                    Native.cgroupRemove(baseFd, name);
                } finally {
                    Native.closeFd(fd);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not ours to worry about: the next JVM tries again.
        }
    }

    /** rmdir of every empty subdirectory of dir (EBUSY: still in use). */
    private static void removeEmptySubdirs(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        int fd = openDir(dir);
        if (fd < 0) {
            return;
        }
        try (DirectoryStream<Path> leaves = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path leaf : leaves) {
                Native.cgroupRemove(fd, leaf.getFileName().toString());
            }
        } finally {
            Native.closeFd(fd);
        }
    }

    /**
     * Polls populated (1, 0 or -errno) until it is no longer 1, sleeping 1 ms, then up to 10 ms,
     * between looks. True if it became 0; false on an error, the timeout, or an interrupt (whose
     * status is set again). A timeout too long for {@code nanoTime} arithmetic (more than about
     * 146 years) means no timeout: computing its deadline would overflow into the past.
     */
    private static boolean awaitUnpopulated(IntSupplier populated, long nanos) {
        boolean forever = nanos >= Long.MAX_VALUE / 2;
        long deadline = forever ? 0 : System.nanoTime() + Math.max(0, nanos);
        long sleep = 1;
        for (;;) {
            int p = populated.getAsInt();
            if (p <= 0) {
                return p == 0;
            }
            if (!forever && System.nanoTime() - deadline >= 0) {
                return false;
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            sleep = Math.min(10, sleep * 2);
        }
    }

    /** Kills the die directory's leaves, then removes what is empty, this JVM's directory last. */
    private static void atShutdown() {
        int die;
        synchronized (LOCK) {
            die = dieDirFd;
        }
        if (die >= 0 && Native.cgroupSignal(die, Native.SIGKILL) == 0) {
            awaitUnpopulated(() -> Native.cgroupPopulated(die), 1_000_000_000L);
        }
        for (Leaf leaf : LEAVES) {
            leaf.remove();
        }
        if (die >= 0) {
            Native.cgroupRemove(jvmDirFd, DIE_DIR);
        }
        removeJvmDir();
    }

    private static void removeJvmDir() {
        Path parent = jvmDir.getParent();
        int fd = openDir(parent);
        if (fd >= 0) {
            Native.cgroupRemove(fd, jvmDir.getFileName().toString()); // EBUSY: leaves still in use
            Native.closeFd(fd);
        }
    }
}
