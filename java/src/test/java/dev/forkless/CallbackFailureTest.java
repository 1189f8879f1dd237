package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Whatever a task on the reactor thread throws, the future it drives completes and the child's
 * pipe is closed (the child is not left blocked).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CallbackFailureTest {

    @Test
    void anExecutorThatThrowsAnErrorFailsTheLineFuture() throws Exception {
        Error boom = new StackOverflowError("executor gave up");
        Executor throwing = task -> {
            throw boom; // thrown on the reactor thread, inside the pipe's callback
        };
        try (Child c = Command.of("seq", "1", "1000000").stdout(Stdio.piped()).spawn()) {
            CompletableFuture<Void> f = c.onStdoutLine(StandardCharsets.UTF_8, throwing, line -> { });
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertSame(boom, e.getCause());
            // The pipe was closed: seq gets SIGPIPE instead of blocking on a full pipe forever.
            assertFalse(c.waitFor().success());
        }
    }

    @Test
    void aConsumerThatThrowsAnErrorOnTheReactorThreadFailsTheFuture() throws Exception {
        Error boom = new AssertionError("consumer gave up");
        try (Child c = Command.of("seq", "1", "1000000").stdout(Stdio.piped()).spawn()) {
            CompletableFuture<Void> f = c.onStdoutLine(StandardCharsets.UTF_8, Runnable::run, line -> {
                throw boom;
            });
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertSame(boom, e.getCause());
            assertFalse(c.waitFor().success());
        }
    }
}
