package dev.forkless;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * A child JVM for OutputSizeTest and LineLengthTest, run with a small heap ({@code -Xmx64m}):
 * collects more than that heap holds and prints what happened as {@code key: value} lines. A
 * future that never completes prints {@code hung} after 30 s instead of hanging the helper.
 */
public final class OutputHeapHelper {
    private OutputHeapHelper() {
    }

    private static String describe(Throwable t) {
        return t.getClass().getSimpleName() + (t.getCause() == null ? "" : " caused by " + t.getCause().getClass().getName())
                + ": " + t.getMessage();
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "output": {
                try {
                    Output o = Command.of("head", "-c", "200000000", "/dev/zero").output();
                    System.out.println("sync: completed " + o);
                } catch (Throwable t) {
                    System.out.println("sync: " + describe(t));
                }
                Set<Long> before = Procs.children().stream().map(Procs.Stat::pid).collect(Collectors.toSet());
                CompletableFuture<Output> f = Command.of("head", "-c", "200000000", "/dev/zero").outputAsync();
                Set<Long> mine = Procs.children().stream().map(Procs.Stat::pid).filter(p -> !before.contains(p))
                        .collect(Collectors.toSet());
                try {
                    System.out.println("async: completed " + f.get(30, TimeUnit.SECONDS));
                } catch (TimeoutException e) {
                    System.out.println("async: hung");
                } catch (ExecutionException e) {
                    System.out.println("async: " + describe(e.getCause()));
                }
                System.out.println("async child gone: " + Procs.eventually(java.time.Duration.ofSeconds(5),
                        () -> mine.stream().allMatch(Procs::gone)));
                System.out.println("after: " + Command.of("head", "-c", "1000000", "/dev/zero").output().stdout().length);
                break;
            }
            case "lines": {
                // 400 million chars without a line terminator, in a 64 MiB heap.
                AtomicLong chars = new AtomicLong();
                AtomicLong longest = new AtomicLong();
                AtomicLong pieces = new AtomicLong();
                try (Child c = Command.of("head", "-c", "400000000", "/dev/zero").stdout(Stdio.piped()).spawn()) {
                    CompletableFuture<Void> f = c.onStdoutLine(line -> {
                        chars.addAndGet(line.length());
                        longest.accumulateAndGet(line.length(), Math::max);
                        pieces.incrementAndGet();
                    });
                    try {
                        f.get(60, TimeUnit.SECONDS);
                        System.out.println("lines: completed");
                    } catch (TimeoutException e) {
                        System.out.println("lines: hung");
                    } catch (ExecutionException e) {
                        System.out.println("lines: " + describe(e.getCause()));
                    }
                    System.out.println("exit: " + c.waitFor());
                }
                System.out.println("chars: " + chars.get());
                System.out.println("longest: " + longest.get());
                System.out.println("pieces: " + pieces.get());
                break;
            }
            default:
                throw new IllegalArgumentException(args[0]);
        }
    }
}
