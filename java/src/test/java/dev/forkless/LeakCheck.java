package dev.forkless;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Fails a test that leaves a descriptor or a child behind. Registered on every test class with
 * {@code @ExtendWith(LeakCheck.class)}.
 *
 * <p>Descriptors: the set of this JVM's descriptors is taken before and after each test. A
 * descriptor that is new after the test (new number, or a number now pointing elsewhere) counts as
 * leaked when it is one of the kinds Forkless or the tests create: a pidfd, a pipe,
 * {@code /dev/null}, or a file under the temporary directory. Other new descriptors are JVM noise
 * (a jar opened by the class loader, a JIT log). The check retries for up to 2 s, without running the
 * garbage collector: a leak that only the Cleaner would repair is still a leak.
 *
 * <p>Children: after the test there must be no zombie child of this JVM, and no running child that
 * was not there before the test; also retried for up to 5 s, for children being reaped right then.
 */
final class LeakCheck implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LeakCheck.class);
    private static final String TMP = System.getProperty("java.io.tmpdir");

    @Override
    public void beforeEach(ExtensionContext context) {
        ExtensionContext.Store store = context.getStore(NS);
        store.put("fds", Procs.fds());
        store.put("children", Procs.children().stream().map(Procs.Stat::pid).collect(Collectors.toSet()));
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterEach(ExtensionContext context) {
        ExtensionContext.Store store = context.getStore(NS);
        Map<Integer, String> before = store.get("fds", Map.class);
        Set<Long> childrenBefore = store.get("children", Set.class);

        // The dieWithParent cgroups' watchdog lives as long as the JVM, by design.
        long[] watchdog = DieWithJvm.watchdogForTests();
        List<String> children = new ArrayList<>();
        boolean childrenOk = Procs.eventually(Duration.ofSeconds(5), () -> {
            children.clear();
            for (Procs.Stat s : Procs.children()) {
                if (watchdog != null && s.pid() == watchdog[0]) {
                    continue;
                }
                if (s.state() == 'Z') {
                    children.add("zombie " + s);
                } else if (!childrenBefore.contains(s.pid())) {
                    children.add("still running " + s);
                }
            }
            return children.isEmpty();
        });

        List<String> fds = new ArrayList<>();
        boolean fdsOk = Procs.eventually(Duration.ofSeconds(2), () -> {
            fds.clear();
            for (Map.Entry<Integer, String> e : Procs.fds().entrySet()) {
                if (watchdog != null && (e.getKey() == watchdog[1] || e.getKey() == watchdog[2])) {
                    continue;
                }
                if (!e.getValue().equals(before.get(e.getKey())) && suspicious(e.getValue())) {
                    fds.add(e.getKey() + " -> " + e.getValue());
                }
            }
            return fds.isEmpty();
        });

        if (!childrenOk || !fdsOk) {
            throw new AssertionError(context.getDisplayName() + " leaked"
                    + (childrenOk ? "" : " children " + children)
                    + (fdsOk ? "" : " descriptors " + fds));
        }
    }

    static boolean suspicious(String target) {
        return target.startsWith("anon_inode:[pidfd]") || target.startsWith("pipe:")
                || target.equals("/dev/null") || target.startsWith(TMP) || target.startsWith("/tmp/");
    }

    /** The descriptors that {@link #suspicious} would flag, for tests that check mid-way. */
    static Set<String> suspiciousNow() {
        Set<String> out = new HashSet<>();
        Procs.fds().forEach((fd, t) -> {
            if (suspicious(t)) {
                out.add(fd + " -> " + t);
            }
        });
        return out;
    }
}
