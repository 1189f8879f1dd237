package dev.forkless;

import dev.forkless.internal.Cgroups;
import dev.forkless.internal.ExitState;
import dev.forkless.internal.LeakReports;
import dev.forkless.internal.Native;
import dev.forkless.internal.NativeLoader;
import dev.forkless.internal.NativeProcess;
import dev.forkless.internal.NativeStrings;
import dev.forkless.internal.RawExit;
import dev.forkless.internal.Reactor;

import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A program to run, with its arguments, working directory, environment, standard streams and what
 * closing its {@link Child} does.
 *
 * <p>A {@code Command} is an <b>immutable value</b>: every setter returns a new command and leaves
 * the receiver unchanged, so a command can be kept as a template, shared between threads and
 * spawned any number of times:
 * <pre>{@code
 * Command javac = Command.of("javac").directory(Path.of("build")).env("LC_ALL", "C");
 * try (Child c = javac.args("-d", "out", "A.java").stdout(Stdio.nul()).spawn()) {
 *     ExitStatus st = c.waitFor();
 * }
 * }</pre>
 *
 * <p>Defaults, for a command made by {@link #of(String, String...)}:
 * <ul>
 *   <li>the program is searched in {@code PATH} when its name has no '/', like {@code execvp},
 *       but in this JVM before the child starts. Which {@code PATH}: the child's, when its
 *       environment has one (inherited, or set with {@link #env}); else, after
 *       {@link #envRemove envRemove("PATH")} or {@link #envClear()}, this JVM's own; else, when
 *       this JVM has none either, {@code /bin:/usr/bin}. An empty entry, like an empty
 *       {@code PATH}, means the child's working directory, against which relative entries are
 *       taken too; a file that exists but cannot be executed is reported as {@code EACCES} only
 *       if nothing better is found; a file the kernel cannot execute directly is run with
 *       {@code /bin/sh}. On Windows the same {@code PATH} is chosen, then the system and Windows
 *       directories are searched, never the current directory, and {@code .exe} is added to a
 *       name without an extension;</li>
 *   <li>{@code argv[0]} is the program as given;</li>
 *   <li>the working directory and the environment are this JVM's;</li>
 *   <li>stdin, stdout and stderr are {@linkplain Stdio#inherit() inherited};</li>
 *   <li>the child stays in this JVM's session and process group;</li>
 *   <li>closing the {@link Child} kills it if it still runs ({@link CloseAction#KILL});</li>
 *   <li>a {@link Child} dropped without closing it is not killed: it runs on and is reaped when it
 *       exits ({@link #killOnUnreachable(boolean) killOnUnreachable(false)}).</li>
 * </ul>
 * The child gets exactly its three standard streams; no other descriptor of this JVM leaks into it.
 *
 * <p>Strings (program, arguments, environment) become bytes in the platform's file-name encoding
 * ({@code sun.jnu.encoding}, UTF-8 in any UTF-8 locale; UTF-8 also when that encoding is plain
 * ASCII). A string that cannot cross into the operating system unchanged is rejected by the setter
 * that receives it with an {@link IllegalArgumentException} naming the piece: a NUL character, an
 * environment name that is empty or contains '=', characters the encoding cannot represent.
 */
public final class Command {
    private static final int NEW_SESSION = 1;
    private static final int NEW_PROCESS_GROUP = 2;
    private static final int DIE_WITH_PARENT = 4;
    // TreeKill as two bits: none (0), AUTO, CGROUP, PROCESS_GROUP.
    private static final int TREE_SHIFT = 3;
    private static final int TREE_MASK = 3 << TREE_SHIFT;
    private static final String[] STREAM_NAMES = {"stdin", "stdout", "stderr"};
    /** The null device: "NUL" is Windows' name for it (CreateFileW opens it from any directory). */
    private static final Path DEV_NULL = Path.of(
            System.getProperty("os.name", "").startsWith("Windows") ? "NUL" : "/dev/null");

    private final String program;
    private final List<String> args;              // without argv[0]
    private final Path directory;                 // null: inherit
    private final boolean envClear;
    private final Map<String, String> envChanges; // value null: remove
    private final Stdio stdin;  // null: not set (inherit; output() treats it as its own default)
    private final Stdio stdout; // null: not set
    private final Stdio stderr; // null: not set
    private final int flags;
    private final CloseAction closeAction;
    private final boolean killOnUnreachable;
    private final Map<Integer, OwnedFd> passed; // child fd -> descriptor, in child fd order
    private final Set<Signal> forwarded;         // JVM signals passed on to the child

    private Command(String program, List<String> args, Path directory, boolean envClear,
                    Map<String, String> envChanges, Stdio stdin, Stdio stdout, Stdio stderr, int flags,
                    CloseAction closeAction, boolean killOnUnreachable, Map<Integer, OwnedFd> passed,
                    Set<Signal> forwarded) {
        this.passed = passed;
        this.forwarded = forwarded;
        this.program = program;
        this.args = args;
        this.directory = directory;
        this.envClear = envClear;
        this.envChanges = envChanges;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.flags = flags;
        this.closeAction = closeAction;
        this.killOnUnreachable = killOnUnreachable;
    }

    /**
     * A command running {@code program} with {@code args}, with every other setting at its default
     * (see the class comment).
     *
     * @param program a path (absolute, or relative to the child's directory) or a name searched in
     *     {@code PATH}; it is also {@code argv[0]}
     * @param args the arguments after {@code argv[0]}; may be empty strings
     * @return the command
     * @throws IllegalArgumentException if the program is empty, or the program or an argument
     *     contains a NUL character or cannot be encoded
     */
    public static Command of(String program, String... args) {
        Objects.requireNonNull(program, "program");
        if (program.isEmpty()) {
            throw new IllegalArgumentException("program is empty");
        }
        NativeStrings.checkCString(program, "program");
        return new Command(program, checkArgs(List.of(), Arrays.asList(args)), null, false, Map.of(),
                null, null, null, 0, CloseAction.KILL, false, Map.of(), Set.of());
    }

    /**
     * A command from a whole command line: the first element is the program, the rest its
     * arguments; otherwise as {@link #of(String, String...)}.
     *
     * @param commandLine program and arguments
     * @return the command
     * @throws IllegalArgumentException if the list is empty, or as {@link #of(String, String...)}
     */
    public static Command of(List<String> commandLine) {
        if (commandLine.isEmpty()) {
            throw new IllegalArgumentException("the command line is empty");
        }
        return of(commandLine.get(0), commandLine.subList(1, commandLine.size()).toArray(new String[0]));
    }

    private static List<String> checkArgs(List<String> existing, Collection<String> more) {
        List<String> all = new ArrayList<>(existing.size() + more.size());
        all.addAll(existing);
        int i = existing.size() + 1;
        for (String a : more) {
            Objects.requireNonNull(a, "argument " + i);
            NativeStrings.checkCString(a, "argument " + i);
            all.add(a);
            i++;
        }
        return Collections.unmodifiableList(all);
    }

    private Command with(List<String> args, Path directory, boolean envClear, Map<String, String> env,
                         Stdio in, Stdio out, Stdio err, int flags, CloseAction close) {
        return new Command(program, args, directory, envClear, env, in, out, err, flags, close,
                killOnUnreachable, passed, forwarded);
    }

    /**
     * Adds one argument.
     *
     * @param arg the argument; may be empty
     * @return a new command with the argument appended
     * @throws IllegalArgumentException if it contains a NUL character or cannot be encoded
     */
    public Command arg(String arg) {
        return args(List.of(Objects.requireNonNull(arg, "arg")));
    }

    /**
     * Adds arguments.
     *
     * @param args the arguments, appended in order
     * @return a new command
     * @throws IllegalArgumentException if one contains a NUL character or cannot be encoded (the
     *     message names it by position, {@code argv[0]} being the program)
     */
    public Command args(String... args) {
        return args(Arrays.asList(args));
    }

    /**
     * Adds arguments.
     *
     * @param args the arguments, appended in iteration order
     * @return a new command
     * @throws IllegalArgumentException as {@link #args(String...)}
     */
    public Command args(Collection<String> args) {
        return with(checkArgs(this.args, args), directory, envClear, envChanges, stdin, stdout, stderr,
                flags, closeAction);
    }

    /**
     * Sets the child's working directory. Default: this JVM's working directory.
     *
     * @param directory the directory; relative to this JVM's working directory if relative; null
     *     restores the default
     * @return a new command
     * @throws IllegalArgumentException if the path cannot be encoded
     */
    public Command directory(Path directory) {
        if (directory != null) {
            NativeStrings.encode(directory, "directory");
        }
        return with(args, directory, envClear, envChanges, stdin, stdout, stderr, flags, closeAction);
    }

    private static void checkEnvName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("environment variable name is empty");
        }
        if (name.indexOf('=') >= 0) {
            throw new IllegalArgumentException("environment variable name contains '=': "
                    + NativeStrings.quote(name));
        }
        NativeStrings.checkCString(name, "environment variable name");
    }

    private Map<String, String> envWith(String name, String value) {
        Map<String, String> m = new LinkedHashMap<>(envChanges);
        m.remove(name); // re-insert at the end: later settings come later
        m.put(name, value);
        return Collections.unmodifiableMap(m);
    }

    /**
     * Sets an environment variable for the child, replacing any inherited value. Default: the child
     * gets this JVM's environment ({@link System#getenv()}) unchanged.
     *
     * @param name the name: not empty, no '='
     * @param value the value; may be empty
     * @return a new command
     * @throws IllegalArgumentException if the name is empty or contains '=', or either contains a
     *     NUL character or cannot be encoded
     */
    public Command env(String name, String value) {
        checkEnvName(name);
        Objects.requireNonNull(value, "value");
        NativeStrings.checkCString(value, "value of environment variable " + name);
        return with(args, directory, envClear, envWith(name, value), stdin, stdout, stderr, flags,
                closeAction);
    }

    /**
     * Removes a variable from the child's environment (an inherited one, or one set earlier on this
     * command).
     *
     * @param name the name
     * @return a new command
     * @throws IllegalArgumentException if the name is empty, contains '=' or a NUL character, or
     *     cannot be encoded
     */
    public Command envRemove(String name) {
        checkEnvName(name);
        return with(args, directory, envClear, envWith(name, null), stdin, stdout, stderr, flags,
                closeAction);
    }

    /**
     * Starts the child with an empty environment: nothing is inherited, and variables set earlier
     * on this command are dropped. Variables set afterwards with {@link #env} are the child's whole
     * environment. Without a {@code PATH} set here, a program name is still searched in this
     * JVM's {@code PATH} (in {@code /bin:/usr/bin} only when this JVM has none): set
     * {@code env("PATH", ...)} to choose the directories.
     *
     * @return a new command
     */
    public Command envClear() {
        return with(args, directory, true, Map.of(), stdin, stdout, stderr, flags, closeAction);
    }

    private static Stdio checkStdio(Stdio s, int stream) {
        Objects.requireNonNull(s, STREAM_NAMES[stream]);
        if (!s.allows(stream)) {
            String hint;
            if (s.kind() == Stdio.Kind.TO_STDOUT) {
                hint = ": toStdout is for stderr only";
            } else if (stream == 0) {
                hint = ": an output setting; use Stdio.read or Stdio.from for input";
            } else {
                hint = ": an input setting; use Stdio.file or Stdio.append for output";
            }
            throw new IllegalArgumentException(STREAM_NAMES[stream] + " cannot be " + s + hint);
        }
        return s;
    }

    /**
     * Sets the child's standard input. Default: {@link Stdio#inherit()} ({@link #output()} has
     * its own default).
     *
     * @param stdio where stdin comes from
     * @return a new command
     * @throws IllegalArgumentException for an output-only setting ({@link Stdio#file},
     *     {@link Stdio#append})
     */
    public Command stdin(Stdio stdio) {
        return with(args, directory, envClear, envChanges, checkStdio(stdio, 0), stdout, stderr, flags,
                closeAction);
    }

    /**
     * Sets the child's standard output. Default: {@link Stdio#inherit()} ({@link #output()} has
     * its own default).
     *
     * @param stdio where stdout goes
     * @return a new command
     * @throws IllegalArgumentException for an input-only setting ({@link Stdio#read})
     */
    public Command stdout(Stdio stdio) {
        return with(args, directory, envClear, envChanges, stdin, checkStdio(stdio, 1), stderr, flags,
                closeAction);
    }

    /**
     * Sets the child's standard error. Default: {@link Stdio#inherit()} ({@link #output()} has
     * its own default).
     *
     * @param stdio where stderr goes
     * @return a new command
     * @throws IllegalArgumentException for an input-only setting ({@link Stdio#read})
     */
    public Command stderr(Stdio stdio) {
        return with(args, directory, envClear, envChanges, stdin, stdout, checkStdio(stdio, 2), flags,
                closeAction);
    }

    /**
     * Starts the child in a new session ({@code setsid()}), which also makes it the leader of a new
     * process group and detaches it from this JVM's controlling terminal. Default: the child stays
     * in this JVM's session and process group.
     *
     * @return a new command
     */
    public Command newSession() {
        return with(args, directory, envClear, envChanges, stdin, stdout, stderr, flags | NEW_SESSION,
                closeAction);
    }

    /**
     * Starts the child in a new process group of its own ({@code setpgid(0, 0)}), so a terminal's
     * Ctrl+C no longer reaches it. Redundant with {@link #newSession()}. Default: the child stays in
     * this JVM's process group.
     *
     * @return a new command
     */
    public Command newProcessGroup() {
        return with(args, directory, envClear, envChanges, stdin, stdout, stderr,
                flags | NEW_PROCESS_GROUP, closeAction);
    }

    /**
     * Makes the child die with this JVM, however the JVM ends: also when it is killed with
     * {@code SIGKILL} or crashes, when no Java code runs any more. Default: the child outlives the
     * JVM (it is only killed by {@link Child#close()} and the like).
     *
     * <p>How (Linux): the child asks the kernel for {@code SIGKILL} when its parent dies
     * ({@code PR_SET_PDEATHSIG}), and checks that the parent is still this JVM after asking, so a
     * JVM dying during the spawn is not missed (the spawn then fails with
     * {@link SpawnStep#PDEATHSIG}). The kernel ties this to the parent <em>thread</em>, so the
     * child is spawned by a small native thread that the calling thread creates for it and that
     * lives until the child has exited: the child does not die when the calling thread ends (a
     * thread pool's worker, say), and, like any other child, it inherits the calling thread's
     * own attributes (Linux keeps these per thread, and a new thread copies its creator's):
     * {@code no_new_privs}, seccomp filters, credentials changed by that thread alone, nice
     * value, CPU affinity, namespaces. (For a virtual thread, the calling thread is its carrier.)
     * Cost: one such thread per running child (64 KiB of stack; it counts against the user's
     * process limit like any thread), and about 60 microseconds more per spawn. If that thread
     * cannot be created, the spawn fails at {@link SpawnStep#PDEATHSIG} (e.g. {@code EAGAIN})
     * rather than tie the child to the calling thread.
     *
     * <p>The kernel signals only the child itself, not the processes it starts. For the whole
     * tree, give the child a cgroup ({@link #treeKill(TreeKill)}, {@link CloseAction#KILL_TREE}):
     * its cgroup is then killed however the JVM ends, daemons that called {@code setsid}
     * included: on a normal exit by a shutdown hook, and after a {@code SIGKILL} or a crash by a
     * watchdog, a {@code /bin/sh} started once per JVM (in a session of its own) that waits for
     * this JVM's end of a pipe to close and then writes {@code cgroup.kill} (Linux 5.14+); if
     * something kills that watchdog, a {@code WARNING} is logged and a new one started. Without
     * a cgroup, a normal exit also kills the child's process group when it leads one
     * ({@link #newProcessGroup()}, {@link #newSession()}), and after a {@code SIGKILL} only the
     * child is killed: descendants that do not die with it (many do: end-of-file or
     * {@code SIGPIPE} on their pipes to it) run on.
     *
     * @return a new command
     */
    public Command dieWithParent() {
        return with(args, directory, envClear, envChanges, stdin, stdout, stderr, flags | DIE_WITH_PARENT,
                closeAction);
    }

    /**
     * Sets the child up so that its whole tree can be killed as one ({@link Child#killTree()},
     * {@link CloseAction#KILL_TREE}): in a cgroup of its own where possible, else in a process
     * group of its own; see {@link TreeKill} for what each one reaches. Default: none, in which
     * case {@link Child#killTree()} works only for a child that leads its own process group
     * ({@link #newProcessGroup()}, {@link #newSession()}); {@link CloseAction#KILL_TREE} implies
     * {@link TreeKill#AUTO} unless this is set. Does not apply to {@link #spawnDetached()}.
     *
     * <p>Cost: with a cgroup, a {@code mkdir} before the spawn, the kernel's move into it, and an
     * {@code rmdir} after the child's handle is released: on the order of a tenth of a millisecond
     * per child (see docs/benchmarks.md); the first such spawn in a JVM also decides whether
     * cgroups can be had ({@link Forkless#cgroupDirectory()}).
     *
     * @param mechanism how
     * @return a new command
     */
    public Command treeKill(TreeKill mechanism) {
        int bits = (Objects.requireNonNull(mechanism, "mechanism").ordinal() + 1) << TREE_SHIFT;
        return with(args, directory, envClear, envChanges, stdin, stdout, stderr,
                (flags & ~TREE_MASK) | bits, closeAction);
    }

    /** The tree-kill choice in effect: the explicit one, AUTO for KILL_TREE, else null. */
    private TreeKill treeKillInEffect() {
        int bits = (flags & TREE_MASK) >> TREE_SHIFT;
        if (bits != 0) {
            return TreeKill.values()[bits - 1];
        }
        return closeAction == CloseAction.KILL_TREE ? TreeKill.AUTO : null;
    }

    /**
     * Sets what {@link Child#close()} does with a child that may still be running. Default:
     * {@link CloseAction#KILL}.
     *
     * @param action the action
     * @return a new command
     */
    public Command onClose(CloseAction action) {
        return with(args, directory, envClear, envChanges, stdin, stdout, stderr, flags,
                Objects.requireNonNull(action, "action"));
    }

    /**
     * Whether a {@link Child} that becomes unreachable without {@link Child#close()} is killed
     * ({@link Signal#KILL}, if it still runs) when the garbage collector finds it, before its
     * handle is released. Default: {@code false}, the child runs on and is reaped when it exits.
     *
     * <p>The default is the conservative one (like tokio's {@code kill_on_drop}): when the
     * collector runs is unpredictable, so a kill tied to it would end a child at a random moment
     * (a build step half-way through writing its output, say). Code that wants the child's life
     * bounded says so with {@link Child#close()} and {@link CloseAction#KILL}; this option is a
     * safety net for children that must not outlive a forgotten handle (a server started for a
     * test, a watcher). {@link Child#close()} never triggers it, whatever the close action.
     *
     * @param kill true to kill an unreachable, unclosed child
     * @return a new command
     */
    public Command killOnUnreachable(boolean kill) {
        return new Command(program, args, directory, envClear, envChanges, stdin, stdout, stderr, flags,
                closeAction, kill, passed, forwarded);
    }

    /**
     * Gives the child a copy of {@code fd} as its descriptor number {@code childFd}, e.g. the two
     * ends of a {@code make} jobserver pipe. Apart from these and its three standard streams the
     * child gets no descriptor of this JVM. The caller keeps ownership of {@code fd} (as with
     * {@link Stdio#fd(OwnedFd)}: it is held open while a spawn uses it, and a closed one fails the
     * spawn with an {@link IllegalStateException}). Passing another descriptor for the same
     * {@code childFd} replaces the first. Default: nothing passed.
     *
     * @param childFd the number in the child, 3 or more (0, 1, 2 are set with {@link #stdin},
     *     {@link #stdout}, {@link #stderr})
     * @param fd the descriptor
     * @return a new command
     * @throws IllegalArgumentException if {@code childFd} is below 3 or above 65535
     */
    public Command passFd(int childFd, OwnedFd fd) {
        Objects.requireNonNull(fd, "fd");
        if (childFd < 3 || childFd > 65535) {
            throw new IllegalArgumentException("childFd must be 3..65535 (0, 1 and 2 are stdin, stdout"
                    + " and stderr): " + childFd);
        }
        Map<Integer, OwnedFd> m = new java.util.TreeMap<>(passed);
        m.put(childFd, fd);
        return new Command(program, args, directory, envClear, envChanges, stdin, stdout, stderr, flags,
                closeAction, killOnUnreachable, Collections.unmodifiableMap(m), forwarded);
    }

    /**
     * Passes these signals on to the child when this JVM receives them: when the JVM gets
     * {@code SIGINT} (Ctrl+C), {@code SIGTERM} (a service manager, {@code docker stop}) or
     * {@code SIGHUP}, the running child gets the same signal first, and the JVM's own handling
     * (the shutdown) goes on after that. The shutdown then waits up to 5 s for such children to exit
     * and kills ({@link Signal#KILL}) those still running, so a child can save its state but
     * cannot hold the JVM's exit forever. Default: nothing is forwarded (a child in this JVM's
     * process group gets a terminal's Ctrl+C from the terminal itself anyway; one in a
     * {@linkplain #newProcessGroup() group of its own} or started by a service does not).
     *
     * <p>Uses {@code sun.misc.Signal} (module {@code jdk.unsupported}); with {@code -Xrs} the
     * signal's default action is restored and the signal raised again after forwarding.
     *
     * @param signals some of {@link Signal#INT}, {@link Signal#TERM}, {@link Signal#HUP}
     * @return a new command
     * @throws IllegalArgumentException for another signal
     */
    public Command forwardSignals(Signal... signals) {
        EnumSet<Signal> set = EnumSet.noneOf(Signal.class);
        for (Signal s : signals) {
            if (!SignalForwarding.FORWARDABLE.contains(Objects.requireNonNull(s, "signal"))) {
                throw new IllegalArgumentException("only INT, TERM and HUP can be forwarded: " + s);
            }
            set.add(s);
        }
        return new Command(program, args, directory, envClear, envChanges, stdin, stdout, stderr, flags,
                closeAction, killOnUnreachable, passed, Collections.unmodifiableSet(set));
    }

    /**
     * Runs the command to completion and collects its output, with
     * {@link OutputOptions#defaults()}; see {@link #output(OutputOptions)}.
     *
     * @return the output and exit status
     * @throws ProcessStartException if the child cannot be started
     * @throws InterruptedException if interrupted; the child is then killed and reaped
     */
    public Output output() throws ProcessStartException, InterruptedException {
        return output(OutputOptions.defaults());
    }

    /**
     * Runs the command to completion and collects its output, in the calling thread with no helper
     * thread (see {@link Child#output(OutputOptions)}). Streams left at their default are set up
     * for it: stdout and stderr become {@link Stdio#piped()}, stdin {@link Stdio#nul()}, or
     * {@link Stdio#piped()} when the options carry input. Streams set explicitly are kept (e.g.
     * {@code stderr(Stdio.inherit())} shows stderr on the console and collects stdout only,
     * {@code stderr(Stdio.toStdout())} collects both, interleaved, as stdout). The child is closed
     * with the command's {@link CloseAction} when collection ends; it has exited by then, unless
     * collection failed, was interrupted or stopped by
     * {@link OutputOptions#stopAfterExit(java.time.Duration)}.
     *
     * <p>Defaults: everything is kept (no limit but the {@value OutputOptions#MAX_MAX_BYTES} bytes
     * an array holds, then {@link OutputTooLargeException}), no timeout. With
     * {@link OutputOptions#timeout(java.time.Duration)} the child is killed when the time is up
     * (its tree with {@link #treeKill(TreeKill)}, {@link #newProcessGroup()} or
     * {@link CloseAction#KILL_TREE}), and the result holds what it wrote before, with
     * {@link Output#timedOut()} true.
     *
     * @param options input, limit per stream (default: none), timeout (default: none), what to do
     *     when the child exits while its pipes are held open
     * @return the output and exit status
     * @throws ProcessStartException if the child cannot be started
     * @throws InterruptedException if interrupted; the child is then closed (default: killed)
     * @throws OutputTooLargeException if a stream goes past what may be kept; the child is then
     *     closed (default: killed)
     * @throws IllegalArgumentException if the options carry input but stdin is set to something
     *     other than {@link Stdio#piped()}
     */
    public Output output(OutputOptions options) throws ProcessStartException, InterruptedException {
        try (Child child = forOutput(options).spawn()) {
            return Capture.collect(child, options);
        }
    }

    /**
     * {@link #output(OutputOptions)} without blocking: the child is started in the calling thread
     * (so a start failure is thrown here), then its output is collected by the reactor thread (see
     * {@link Child#outputAsync(OutputOptions)}) and the child closed (its {@link CloseAction})
     * before the future completes. The future always completes, exceptionally if collection
     * fails ({@link OutputTooLargeException}, ...). Cancelling it (or completing it otherwise,
     * {@code orTimeout(...)} included) kills the child at once (its tree, where it has one), closes
     * its pipes and then closes the child, which reaps it.
     *
     * @param options input, limit, timeout, cut-off
     * @return the future output; completes on the {@link Child#onExit()} executor
     * @throws ProcessStartException if the child cannot be started
     */
    public CompletableFuture<Output> outputAsync(OutputOptions options) throws ProcessStartException {
        Child child = forOutput(options).spawn();
        try {
            return Capture.collectAsync(child, options, true);
        } catch (RuntimeException | Error e) {
            child.close();
            throw e;
        }
    }

    /**
     * {@link #outputAsync(OutputOptions)} with {@link OutputOptions#defaults()}.
     *
     * @return the future output
     * @throws ProcessStartException if the child cannot be started
     */
    public CompletableFuture<Output> outputAsync() throws ProcessStartException {
        return outputAsync(OutputOptions.defaults());
    }

    private Command forOutput(OutputOptions options) {
        Objects.requireNonNull(options, "options");
        Stdio in = stdin;
        if (options.inputBytes() != null) {
            if (in == null) {
                in = Stdio.piped();
            } else if (in.kind() != Stdio.Kind.PIPED) {
                throw new IllegalArgumentException("the output options carry input, but stdin is " + in);
            }
        } else if (in == null) {
            in = Stdio.nul();
        }
        return with(args, directory, envClear, envChanges, in, stdout == null ? Stdio.piped() : stdout,
                stderr == null ? Stdio.piped() : stderr, flags, closeAction);
    }

    /** The stdin setting, or null if not set (for {@link Pipeline}). */
    Stdio stdinSetting() {
        return stdin;
    }

    /** The stdout setting, or null if not set. */
    Stdio stdoutSetting() {
        return stdout;
    }

    /**
     * The program, as given.
     *
     * @return the program
     */
    public String program() {
        return program;
    }

    /**
     * The arguments after {@code argv[0]}.
     *
     * @return an unmodifiable list
     */
    public List<String> arguments() {
        return args;
    }

    /**
     * Starts the child.
     *
     * <p>The calling thread does the work: the child borrows it for the few microseconds between
     * its creation and its {@code execve} (Forkless spawns vfork-style, so the cost does not grow
     * with the JVM's heap). Files that {@link Stdio} settings name are opened first, and closed
     * again in this JVM before this method returns or throws. The first spawn also starts the
     * reactor thread that watches every child's exit ({@link Forkless#reactorBackend()}); the new
     * child is handed to it before this method returns.
     *
     * @return the running child; close it (try-with-resources) to apply the {@link CloseAction}
     * @throws ProcessStartException if the child could not be started: the program is missing, not
     *     executable or not found in {@code PATH}; the directory does not exist; a {@link Stdio} file
     *     cannot be opened; descriptors or processes are exhausted ({@code EMFILE}, {@code EAGAIN});
     *     the exit watcher cannot start or take the child ({@link SpawnStep#WATCH}, the child is
     *     then killed and reaped). Nothing is left behind.
     * @throws IllegalStateException if a {@link Stdio#fd(OwnedFd)} descriptor is already closed;
     *     nothing has been started or opened then
     * @throws UnsatisfiedLinkError if the native library cannot be loaded (see
     *     {@link Forkless#unavailabilityCause()})
     */
    public Child spawn() throws ProcessStartException {
        return spawn(null);
    }

    /**
     * Starts the command as a detached process (the daemonize pattern) and returns its PID. The
     * process is <b>not tracked</b> by this JVM: there is no {@link Child}, it is <b>not reaped</b>
     * by this JVM (it is re-parented to init, or to the nearest subreaper, which reaps it), and it
     * is <b>not killed</b> with this JVM, however the JVM ends. The PID is informational only: once
     * the process has exited, the number may be reused by an unrelated process at any time, so
     * signal it (e.g. through {@link ProcessHandle#of(long)}) only while you know it runs.
     *
     * <p>How (Linux): the classic double fork. A vfork-style child calls {@code setsid()}, forks
     * the process that runs the program and exits at once; this JVM reaps that intermediate before
     * this method returns. The process runs in a new session that it does not lead (so it can
     * never acquire a controlling terminal) and leads a process group of its own (its process
     * group ID is its PID: signalling {@code -pid} reaches it and the children it starts). This
     * method returns once the program has been executed, so a missing program, a bad directory and
     * the like are reported with their step, as by {@link #spawn()}. The second fork copies the
     * JVM's page tables, so a detached start costs more than {@link #spawn()} (milliseconds per
     * GiB of heap in use).
     *
     * <p>Defaults that differ from {@link #spawn()}: stdin, stdout and stderr left unset are
     * {@link Stdio#nul()} (a daemon must not hold this JVM's terminal or pipes); streams set
     * explicitly are honoured ({@link Stdio#file}, {@link Stdio#append}, {@link Stdio#read},
     * {@link Stdio#fd(OwnedFd)}, {@link Stdio#toStdout()}, and {@link Stdio#inherit()} when asked
     * for). {@link #passFd} descriptors are passed as usual. {@link #newSession()} and
     * {@link #newProcessGroup()} are implied; {@link #onClose}, {@link #killOnUnreachable} and
     * {@link #forwardSignals} concern a {@link Child} and do not apply.
     *
     * @return the PID of the detached process (informational: see above)
     * @throws ProcessStartException if the process could not be started (program, directory, step
     *     and errno as for {@link #spawn()}); nothing is left behind, no process, no descriptor
     * @throws IllegalArgumentException if a standard stream is {@link Stdio#piped()} or
     *     {@link Stdio#from}: a detached process has no {@link Child} to hold the other end
     * @throws IllegalStateException if the command is {@link #dieWithParent()} (a contradiction),
     *     or a {@link Stdio#fd(OwnedFd)} descriptor is already closed
     * @throws UnsatisfiedLinkError if the native library cannot be loaded
     */
    public long spawnDetached() throws ProcessStartException {
        if ((flags & DIE_WITH_PARENT) != 0) {
            throw new IllegalStateException("cannot run " + NativeStrings.quote(program)
                    + " detached: the command is dieWithParent()");
        }
        long[] pid = new long[1];
        spawn(pid);
        return pid[0];
    }

    /** A detached process's streams: unset ones are /dev/null; pipes cannot be had. */
    private Stdio[] detachedStreams() {
        Stdio[] streams = {stdin, stdout, stderr};
        for (int i = 0; i < 3; i++) {
            if (streams[i] == null) {
                streams[i] = Stdio.nul();
            } else if (streams[i].kind() == Stdio.Kind.PIPED || streams[i].kind() == Stdio.Kind.FROM) {
                throw new IllegalArgumentException("cannot run " + NativeStrings.quote(program)
                        + " detached with " + STREAM_NAMES[i] + " " + streams[i]
                        + ": a detached process has no Child to hold the other end of a pipe");
            }
        }
        return streams;
    }

    /** spawn(), or with detachedPid (one long) a detached start: the PID goes there, null returned. */
    private Child spawn(long[] detachedPid) throws ProcessStartException {
        // A volatile read once loaded; otherwise the loader's full explanation, every time (rather
        // than a bare NoClassDefFoundError for Native on the second attempt).
        NativeLoader.ensureLoaded();
        Stdio[] streams = detachedPid != null ? detachedStreams()
                : new Stdio[] {orInherit(stdin), orInherit(stdout), orInherit(stderr)};
        List<OwnedFd> borrowed = new ArrayList<>();
        int[] opened = {-1, -1, -1};  // files and the child's ends of pipes: closed after the spawn
        int[] parentEnds = {-1, -1, -1};
        PipeEnd upstream = null;      // Stdio.from: handed to the child, closed here on success
        int devNull = -1;
        boolean started = false;
        try {
            int[] fdMap = new int[6 + 2 * passed.size()];
            // Caller descriptors first, so a closed one fails before anything is opened.
            for (int i = 0; i < 3; i++) {
                if (streams[i].kind() == Stdio.Kind.FD) {
                    fdMap[2 * i + 1] = borrow(streams[i].ownedFd(), STREAM_NAMES[i] + " is Stdio.fd("
                            + streams[i].ownedFd() + ")", borrowed);
                }
            }
            int at = 6;
            for (Map.Entry<Integer, OwnedFd> e : passed.entrySet()) {
                fdMap[at++] = e.getKey();
                fdMap[at++] = borrow(e.getValue(), "passFd(" + e.getKey() + ", " + e.getValue() + ")",
                        borrowed);
            }
            if (streams[0].kind() == Stdio.Kind.FROM) {
                upstream = takeUpstream(streams[0].upstream());
                fdMap[1] = upstream.fd().borrow();
                if (fdMap[1] < 0) {
                    upstream.unclaim(FROM_CLAIM);
                    upstream = null;
                    throw new IllegalStateException("cannot run " + NativeStrings.quote(program)
                            + ": stdin is " + streams[0] + ", whose pipe is closed");
                }
                // The child reads it blocking; the flag belongs to the open file, shared with us.
                Native.setNonBlocking(fdMap[1], false);
            }
            for (int i = 0; i < 3; i++) {
                fdMap[2 * i] = i;
                switch (streams[i].kind()) {
                    case INHERIT:
                        fdMap[2 * i + 1] = i;
                        break;
                    case NUL:
                        if (devNull < 0) {
                            devNull = openForStream(DEV_NULL, Native.OPEN_READ | Native.OPEN_WRITE, i);
                        }
                        fdMap[2 * i + 1] = devNull;
                        break;
                    case WRITE_FILE:
                        opened[i] = openForStream(streams[i].path(),
                                Native.OPEN_WRITE | Native.OPEN_CREATE | Native.OPEN_TRUNCATE, i);
                        fdMap[2 * i + 1] = opened[i];
                        break;
                    case APPEND_FILE:
                        opened[i] = openForStream(streams[i].path(),
                                Native.OPEN_WRITE | Native.OPEN_CREATE | Native.OPEN_APPEND, i);
                        fdMap[2 * i + 1] = opened[i];
                        break;
                    case READ_FILE:
                        opened[i] = openForStream(streams[i].path(), Native.OPEN_READ, i);
                        fdMap[2 * i + 1] = opened[i];
                        break;
                    case PIPED:
                        int[] p;
                        try {
                            p = Native.pipeForChild(i == 0 ? 0 : 1);
                        } catch (Native.ErrnoException e) {
                            throw failure(SpawnStep.STDIO, e.errno(), "pipe for " + STREAM_NAMES[i]);
                        }
                        int ours = i == 0 ? 1 : 0;
                        parentEnds[i] = p[ours];
                        opened[i] = p[1 - ours];
                        fdMap[2 * i + 1] = opened[i];
                        int rc = Native.setNonBlocking(parentEnds[i], true);
                        if (rc < 0) {
                            throw failure(SpawnStep.STDIO, -rc, "fcntl O_NONBLOCK on " + STREAM_NAMES[i]);
                        }
                        break;
                    case TO_STDOUT:
                        fdMap[5] = fdMap[3]; // stdout is mapped by now (streams are in order)
                        break;
                    case FD:
                    case FROM:
                        break; // mapped above
                    default:
                        throw new AssertionError(streams[i]);
                }
            }
            Child child = start(fdMap, parentEnds, detachedPid);
            started = true;
            return child;
        } finally {
            for (int fd : opened) {
                if (fd >= 0) {
                    Native.closeFd(fd);
                }
            }
            if (!started) {
                for (int fd : parentEnds) {
                    if (fd >= 0) {
                        Native.closeFd(fd);
                    }
                }
            }
            if (devNull >= 0) {
                Native.closeFd(devNull);
            }
            for (OwnedFd fd : borrowed) {
                fd.unborrow();
            }
            if (upstream != null) {
                giveBack(upstream, started);
            }
            Reference.reachabilityFence(streams);
            Reference.reachabilityFence(passed);
        }
    }

    private static Stdio orInherit(Stdio s) {
        return s == null ? Stdio.inherit() : s;
    }

    private int borrow(OwnedFd fd, String what, List<OwnedFd> borrowed) {
        int raw = fd.borrow();
        if (raw < 0) {
            throw new IllegalStateException("cannot run " + NativeStrings.quote(program) + ": " + what
                    + ", which is closed");
        }
        borrowed.add(fd);
        return raw;
    }

    private static final String FROM_CLAIM = "Stdio.from (the stdin of another child)";

    /** Claims upstream's stdout pipe for this child's stdin. */
    private PipeEnd takeUpstream(Child upstream) {
        PipeEnd end;
        try {
            end = upstream.pipe(1);
        } catch (IllegalStateException closed) {
            throw new IllegalStateException("cannot run " + NativeStrings.quote(program) + ": stdin is "
                    + "Stdio.from(" + upstream + "), which is closed");
        }
        if (end == null) {
            throw new IllegalStateException("cannot run " + NativeStrings.quote(program) + ": stdin is "
                    + "Stdio.from(" + upstream + "), whose stdout is not Stdio.piped()");
        }
        end.claim(FROM_CLAIM, false);
        return end;
    }

    /** After the spawn: the child has its copy, ours goes; after a failure it stays upstream's. */
    private static void giveBack(PipeEnd end, boolean started) {
        OwnedFd fd = end.fd();
        if (started) {
            fd.unborrow();
            end.close();
        } else {
            int raw = fd.borrow(); // still borrowed by the spawn, so this cannot fail
            Native.setNonBlocking(raw, true);
            fd.unborrow();
            fd.unborrow();
            end.unclaim(FROM_CLAIM);
        }
    }

    private int openForStream(Path path, int openFlags, int stream) throws ProcessStartException {
        int fd = Native.open(NativeStrings.encode(path, STREAM_NAMES[stream] + " file"), openFlags, 0666);
        if (fd < 0) {
            throw failure(SpawnStep.STDIO, -fd, "open " + STREAM_NAMES[stream] + " " + path);
        }
        return fd;
    }

    private Child start(int[] fdMap, int[] parentEnds, long[] detachedPid) throws ProcessStartException {
        List<byte[]> env = environmentBytes();
        byte[] programBytes = NativeStrings.encode(program, "program");
        byte[][] argBytes = new byte[args.size()][];
        int size = 2 * (programBytes.length + 1);
        for (int i = 0; i < argBytes.length; i++) {
            argBytes[i] = NativeStrings.encode(args.get(i), "argument " + (i + 1));
            size += argBytes[i].length + 1;
        }
        if (env != null) {
            for (byte[] e : env) {
                size += e.length + 1;
            }
        }
        byte[] cwd = directory == null ? null : NativeStrings.encode(directory, "directory");
        if (cwd != null) {
            size += cwd.length + 1;
        }
        byte[] block = new byte[size];
        int pos = put(block, 0, programBytes);
        pos = put(block, pos, programBytes); // argv[0]
        for (byte[] a : argBytes) {
            pos = put(block, pos, a);
        }
        if (env != null) {
            for (byte[] e : env) {
                pos = put(block, pos, e);
            }
        }
        if (cwd != null) {
            put(block, pos, cwd);
        }

        int spawnFlags = 0;
        if ((flags & NEW_SESSION) != 0) {
            spawnFlags |= Native.SPAWN_NEW_SESSION;
        }
        TreeKill tree = treeKillInEffect();
        if ((flags & NEW_PROCESS_GROUP) != 0 || (tree != null && (flags & NEW_SESSION) == 0)) {
            spawnFlags |= Native.SPAWN_NEW_PROCESS_GROUP; // with a session too: the core allows pgid 0
        }
        if (detachedPid != null) {
            long[] out = new long[Native.SPAWN_OUT_LENGTH];
            // No flags: the core implies the session and group; nothing here watches the process.
            int rc = Native.spawnDetached(block, argBytes.length + 1, env == null ? -1 : env.size(),
                    cwd != null, fdMap, 0, 0, 0, 0, null, -1, out);
            if (rc < 0) {
                throw spawnFailure(rc, out);
            }
            detachedPid[0] = out[1];
            return null;
        }
        // The reactor first: if it cannot start, nothing has been spawned yet.
        Reactor reactor;
        try {
            reactor = Reactor.get();
        } catch (Native.ErrnoException e) {
            ProcessStartException failure = failure(SpawnStep.WATCH, e.errno(), "start the exit watcher");
            if (e.getCause() != null) {
                failure.initCause(e.getCause()); // the JDK's "unable to create native thread"; never e itself (internal)
            }
            throw failure;
        }
        long[] out = new long[Native.SPAWN_OUT_LENGTH];
        int argc = argBytes.length + 1;
        int envc = env == null ? -1 : env.size();
        if ((flags & DIE_WITH_PARENT) != 0) {
            spawnFlags |= Native.SPAWN_DIE_WITH_PARENT;
        }
        Cgroups.Leaf leaf = tree == TreeKill.AUTO || tree == TreeKill.CGROUP ? newLeaf(tree) : null;
        int rc;
        try {
            rc = spawnNative(block, argc, envc, cwd != null, fdMap, spawnFlags, leaf, out);
            if (rc < 0 && leaf != null && out[2] == Native.STEP_CGROUP && tree == TreeKill.AUTO) {
                // The kernel refused the leaf (no write access to cgroup.procs, say): no cgroups
                // from now on, and this child gets the process group.
                Cgroups.markUnavailable("spawning into the cgroup " + leaf + " failed: "
                        + Native.errnoName(-rc) + " (" + Native.strerror(-rc) + ")", -rc);
                leaf.release();
                leaf = null;
                rc = spawnNative(block, argc, envc, cwd != null, fdMap, spawnFlags, null, out);
            }
        } catch (RuntimeException | Error e) {
            if (leaf != null) {
                leaf.release();
            }
            throw e;
        }
        if (rc < 0) {
            if (leaf != null) {
                leaf.release();
            }
            throw spawnFailure(rc, out);
        }
        NativeProcess process = new NativeProcess(out[0], out[1]);
        ExitState state = new ExitState(out[1], program,
                LeakReports.enabled() ? new Throwable("spawned here") : null);
        try {
            reactor.watch(process, state);
        } catch (Native.ErrnoException e) {
            discard(process);
            if (leaf != null) {
                leaf.signal(Native.SIGKILL);
                leaf.release();
            }
            throw failure(SpawnStep.WATCH, e.errno(), "watch its exit");
        }
        if ((flags & DIE_WITH_PARENT) != 0) {
            DieWithJvm.register(process, state);
            if (leaf != null) {
                DieWithJvm.guardCgroups();
            }
        }
        if (!forwarded.isEmpty()) {
            SignalForwarding.register(process, state, forwarded);
        }
        PipeEnd[] pipes = new PipeEnd[3];
        for (int i = 0; i < 3; i++) {
            if (parentEnds[i] >= 0) {
                pipes[i] = new PipeEnd(OwnedFd.adopt(parentEnds[i]), i == 0,
                        STREAM_NAMES[i] + " of pid " + out[1] + " (" + program + ")");
            }
        }
        return new Child(process, state, closeAction, program, killOnUnreachable, pipes, leaf,
                (spawnFlags & (Native.SPAWN_NEW_PROCESS_GROUP | Native.SPAWN_NEW_SESSION)) != 0);
    }

    /** A leaf for the child; null for AUTO when there is none (CGROUP: the spawn fails). */
    private Cgroups.Leaf newLeaf(TreeKill tree) throws ProcessStartException {
        try {
            return Cgroups.newLeaf((flags & DIE_WITH_PARENT) != 0);
        } catch (Cgroups.UnavailableException e) {
            if (tree == TreeKill.AUTO) {
                Cgroups.autoFallsBack(e); // a WARNING, once per JVM
                return null;
            }
            throw failure(SpawnStep.CGROUP, e.errno(), "TreeKill.CGROUP: " + e.getMessage());
        }
    }

    /**
     * One native spawn, in the calling thread (for dieWithParent the core clones on a holder thread
     * that this thread creates, see there); a leaf adds the cgroup.
     */
    private static int spawnNative(byte[] block, int argc, int envc, boolean hasCwd,
                                   int[] fdMap, int spawnFlags, Cgroups.Leaf leaf, long[] out) {
        int flags = leaf == null ? spawnFlags : spawnFlags | Native.SPAWN_INTO_CGROUP;
        int cgroupFd = leaf == null ? -1 : leaf.fd();
        return Native.spawn(block, argc, envc, hasCwd, fdMap, flags, 0, 0, 0, null, cgroupFd, out);
    }

    /** A child that cannot be watched: kill it, reap it here, release it. Nothing stays behind. */
    private static void discard(NativeProcess process) {
        try {
            process.signal(Signal.KILL.number());
            RawExit gone = null;
            while (gone == null) {
                gone = process.await(-1); // null only after EINTR
            }
        } catch (RuntimeException lost) {
            // ECHILD: reaped elsewhere already
        } finally {
            process.release();
        }
    }

    private static int put(byte[] block, int pos, byte[] s) {
        System.arraycopy(s, 0, block, pos, s.length);
        return pos + s.length + 1; // the terminator is the array's initial zero
    }

    /** The child's environment as NAME=value byte strings, or null to inherit this process's. */
    private List<byte[]> environmentBytes() {
        if (!envClear && envChanges.isEmpty()) {
            return null;
        }
        Map<String, String> env = envClear ? new LinkedHashMap<>() : new LinkedHashMap<>(System.getenv());
        for (Map.Entry<String, String> e : envChanges.entrySet()) {
            if (e.getValue() == null) {
                env.remove(e.getKey());
            } else {
                env.put(e.getKey(), e.getValue());
            }
        }
        List<byte[]> out = new ArrayList<>(env.size());
        for (Map.Entry<String, String> e : env.entrySet()) {
            out.add(NativeStrings.encode(e.getKey() + "=" + e.getValue(),
                    "environment variable " + e.getKey()));
        }
        return out;
    }

    private ProcessStartException spawnFailure(int rc, long[] out) {
        SpawnStep step = SpawnStep.ofNative((int) out[2]);
        String what = step.stepName();
        if (step == SpawnStep.RESOLVE) {
            what = -rc == Native.ENOENT ? "not found in PATH" : "PATH search";
        }
        return failure(step, -rc, what);
    }

    ProcessStartException failure(SpawnStep step, int errno, String what) {
        Path shown = (directory == null ? Path.of("") : directory).toAbsolutePath();
        return new ProcessStartException(program, shown, directory != null, step, errno,
                Native.errnoName(errno), what, Native.strerror(errno));
    }

    /**
     * Like {@code "Command[gcc, -c, x.c; directory=build, stdout=nul, onClose=WAIT]"}: the command
     * line, then every setting that differs from its default.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Command[").append(program);
        for (String a : args) {
            sb.append(", ").append(a);
        }
        String sep = "; ";
        if (directory != null) {
            sb.append(sep).append("directory=").append(directory);
            sep = ", ";
        }
        if (envClear) {
            sb.append(sep).append("envClear");
            sep = ", ";
        }
        for (Map.Entry<String, String> e : envChanges.entrySet()) {
            sb.append(sep).append(e.getValue() == null ? "envRemove " + e.getKey() : "env " + e.getKey()
                    + "=" + e.getValue());
            sep = ", ";
        }
        Stdio[] streams = {stdin, stdout, stderr};
        for (int i = 0; i < 3; i++) {
            if (streams[i] != null) {
                sb.append(sep).append(STREAM_NAMES[i]).append('=').append(streams[i]);
                sep = ", ";
            }
        }
        if ((flags & NEW_SESSION) != 0) {
            sb.append(sep).append("newSession");
            sep = ", ";
        }
        if ((flags & NEW_PROCESS_GROUP) != 0) {
            sb.append(sep).append("newProcessGroup");
            sep = ", ";
        }
        if ((flags & DIE_WITH_PARENT) != 0) {
            sb.append(sep).append("dieWithParent");
            sep = ", ";
        }
        if ((flags & TREE_MASK) != 0) {
            sb.append(sep).append("treeKill=").append(treeKillInEffect());
            sep = ", ";
        }
        if (closeAction != CloseAction.KILL) {
            sb.append(sep).append("onClose=").append(closeAction);
            sep = ", ";
        }
        if (killOnUnreachable) {
            sb.append(sep).append("killOnUnreachable");
            sep = ", ";
        }
        if (!forwarded.isEmpty()) {
            sb.append(sep).append("forwardSignals").append(forwarded);
            sep = ", ";
        }
        for (Map.Entry<Integer, OwnedFd> e : passed.entrySet()) {
            sb.append(sep).append("passFd ").append(e.getKey()).append('=').append(e.getValue());
            sep = ", ";
        }
        return sb.append(']').toString();
    }
}
