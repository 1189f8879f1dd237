package dev.forkless;

import dev.forkless.internal.Native;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Commands connected like a shell's {@code cat f | grep x | wc -l}: each stage's standard output
 * is a kernel pipe into the next stage's standard input. The bytes go from child to child
 * without passing through this JVM, and every stage runs at once.
 * <pre>{@code
 * try (Pipeline.Running p = Pipeline.of(
 *         Command.of("cat", "f"), Command.of("grep", "x"),
 *         Command.of("wc", "-l").stdout(Stdio.piped())).spawn()) {
 *     String count = new String(p.last().stdout().readAllBytes());
 *     PipelineStatus st = p.waitFor();   // one status per stage; st.pipefail() as in bash
 * }
 * }</pre>
 *
 * <p>The first stage's stdin and the last stage's stdout are whatever those commands say (default:
 * inherited). The stdin of the other stages and the stdout of all but the last are the pipeline's:
 * leave them unset. Each stage's stderr is its own setting ({@link Stdio#toStdout()} sends it
 * down the pipe, like {@code |&}). Immutable, like {@link Command}.
 */
public final class Pipeline {
    private final List<Command> stages;

    private Pipeline(List<Command> stages) {
        this.stages = stages;
    }

    /**
     * A pipeline of the given stages, in order.
     *
     * @param stages at least one command
     * @return the pipeline
     * @throws IllegalArgumentException if there is no stage, or a stage sets a stream the pipeline
     *     connects (the stdin of a stage after the first, the stdout of a stage before the last)
     */
    public static Pipeline of(Command... stages) {
        return of(List.of(stages));
    }

    /**
     * A pipeline of the given stages, in order; see {@link #of(Command...)}.
     *
     * @param stages at least one command
     * @return the pipeline
     */
    public static Pipeline of(List<Command> stages) {
        List<Command> list = List.copyOf(stages);
        if (list.isEmpty()) {
            throw new IllegalArgumentException("a pipeline needs at least one stage");
        }
        for (int i = 0; i < list.size(); i++) {
            Command c = list.get(i);
            if (i > 0 && c.stdinSetting() != null) {
                throw new IllegalArgumentException("stage " + (i + 1) + " (" + c.program() + ") sets stdin to "
                        + c.stdinSetting() + ", but its stdin is the previous stage's output");
            }
            if (i < list.size() - 1 && c.stdoutSetting() != null) {
                throw new IllegalArgumentException("stage " + (i + 1) + " (" + c.program() + ") sets stdout to "
                        + c.stdoutSetting() + ", but its stdout goes to the next stage");
            }
        }
        return new Pipeline(list);
    }

    /**
     * The stages.
     *
     * @return an unmodifiable list
     */
    public List<Command> stages() {
        return stages;
    }

    /**
     * Starts every stage, first to last, connected by close-on-exec pipes whose ends this JVM
     * closes as soon as the stages on both sides have their copies (so a stage sees end-of-file
     * when the one before it exits, and {@code SIGPIPE} when the one after it has exited).
     *
     * @return the running pipeline
     * @throws ProcessStartException if a stage cannot be started, or the pipe to the next stage
     *     cannot be created (step {@link SpawnStep#STDIO}, e.g. {@code EMFILE}): the stages started
     *     before it are killed and reaped, no pipe is left open, and the exception names the
     *     failing program
     */
    public Running spawn() throws ProcessStartException {
        List<Child> children = new ArrayList<>(stages.size());
        OwnedFd upstream = null; // the read end the next stage gets
        boolean ok = false;
        try {
            for (int i = 0; i < stages.size(); i++) {
                Command c = stages.get(i);
                OwnedFd.Pipe pipe = null;
                try {
                    if (upstream != null) {
                        c = c.stdin(Stdio.fd(upstream));
                    }
                    if (i < stages.size() - 1) {
                        int[] fds;
                        try {
                            fds = Native.pipe();
                        } catch (Native.ErrnoException e) {
                            throw c.failure(SpawnStep.STDIO, e.errno(), "pipe to stage " + (i + 2) + " ("
                                    + stages.get(i + 1).program() + ")");
                        }
                        pipe = new OwnedFd.Pipe(OwnedFd.adopt(fds[0]), OwnedFd.adopt(fds[1]));
                        c = c.stdout(Stdio.fd(pipe.writer()));
                    }
                    children.add(c.spawn());
                } finally {
                    if (upstream != null) {
                        upstream.close();
                    }
                    upstream = pipe == null ? null : pipe.reader();
                    if (pipe != null) {
                        pipe.writer().close();
                    }
                }
            }
            ok = true;
            return new Running(children);
        } finally {
            if (upstream != null) {
                upstream.close();
            }
            if (!ok) {
                for (Child c : children) {
                    c.kill(Signal.KILL);
                    c.close();
                }
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Pipeline[");
        for (int i = 0; i < stages.size(); i++) {
            sb.append(i == 0 ? "" : " | ").append(stages.get(i));
        }
        return sb.append(']').toString();
    }

    /** A started pipeline: one {@link Child} per stage. Closing it closes every child. */
    public static final class Running implements AutoCloseable {
        private final List<Child> children;

        Running(List<Child> children) {
            this.children = Collections.unmodifiableList(children);
        }

        /**
         * The children, one per stage, in order.
         *
         * @return an unmodifiable list
         */
        public List<Child> children() {
            return children;
        }

        /**
         * The first stage (whose stdin the pipeline's input is, if piped).
         *
         * @return the child
         */
        public Child first() {
            return children.get(0);
        }

        /**
         * The last stage (whose stdout the pipeline's output is, if piped).
         *
         * @return the child
         */
        public Child last() {
            return children.get(children.size() - 1);
        }

        /**
         * Waits for every stage.
         *
         * @return one status per stage
         * @throws InterruptedException if interrupted; the stages are unaffected
         */
        public PipelineStatus waitFor() throws InterruptedException {
            List<ExitStatus> all = new ArrayList<>(children.size());
            for (Child c : children) {
                all.add(c.waitFor());
            }
            return new PipelineStatus(all);
        }

        /**
         * A future completed when every stage has exited (see {@link Child#onExit()}).
         *
         * @return the future statuses
         */
        public CompletableFuture<PipelineStatus> onExit() {
            List<CompletableFuture<ExitStatus>> fs = new ArrayList<>();
            for (Child c : children) {
                fs.add(c.onExit());
            }
            return CompletableFuture.allOf(fs.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
                List<ExitStatus> all = new ArrayList<>(fs.size());
                for (CompletableFuture<ExitStatus> f : fs) {
                    all.add(f.join());
                }
                return new PipelineStatus(all);
            });
        }

        /** Closes every stage, last to first, each with its command's {@link CloseAction}. */
        @Override
        public void close() {
            RuntimeException first = null;
            for (int i = children.size() - 1; i >= 0; i--) {
                try {
                    children.get(i).close();
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }

        @Override
        public String toString() {
            return "Pipeline.Running" + children;
        }
    }
}
