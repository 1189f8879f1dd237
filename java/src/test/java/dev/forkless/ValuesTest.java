package dev.forkless;

import dev.forkless.internal.Native;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Signal, ExitStatus, ResourceUsage, SpawnStep: values and their agreement with the core. */
@ExtendWith(LeakCheck.class)
class ValuesTest {
    private static final ResourceUsage NONE = new ResourceUsage(Duration.ZERO, Duration.ZERO, 0);

    @Test
    void signals() {
        assertEquals(Signal.KILL, Signal.of(9));
        assertEquals(Signal.TERM, Signal.of(15));
        assertEquals(Signal.SYS, Signal.of(31));
        assertEquals("SIGKILL", Signal.KILL.signalName());
        assertEquals(31, Signal.values().length);
        for (Signal s : Signal.values()) {
            assertEquals(s, Signal.of(s.number()));
            assertEquals(s.ordinal() + 1, s.number());
        }
        assertThrows(IllegalArgumentException.class, () -> Signal.of(0));
        assertThrows(IllegalArgumentException.class, () -> Signal.of(34));
        assertThrows(IllegalArgumentException.class, () -> Signal.of(-1));
        assertFalse(Signal.isKnown(40));
    }

    @Test
    void exitStatusValues() {
        ExitStatus ok = ExitStatus.exited(0, NONE);
        assertTrue(ok.success());
        assertEquals("exit 0", ok.toString());
        assertEquals(ok, ExitStatus.exited(0, NONE));
        assertNotEquals(ok, ExitStatus.exited(1, NONE));
        ExitStatus segv = ExitStatus.signaled(11, true, NONE);
        assertEquals("killed by SIGSEGV (core dumped)", segv.toString());
        assertEquals(Signal.SEGV, segv.signal().orElseThrow());
        assertTrue(segv.code().isEmpty());
        ExitStatus rt = ExitStatus.signaled(40, false, NONE);
        assertEquals("killed by signal 40", rt.toString());
        assertTrue(rt.signal().isEmpty());
        assertEquals(OptionalInt.of(40), rt.signalNumber());
        // Windows exit codes are 32 bits wide; crashes have their own kind.
        assertEquals(70000, ExitStatus.exited(70000, NONE).code().getAsInt());
        ExitStatus av = ExitStatus.crashed(0xC0000005, NONE);
        assertEquals(0xC0000005, av.crashCode().getAsInt());
        assertTrue(av.code().isEmpty() && av.signalNumber().isEmpty() && av.signal().isEmpty());
        assertFalse(av.success());
        assertEquals("crashed with 0xC0000005", av.toString());
        assertNotEquals(av, ExitStatus.exited(0xC0000005, NONE));
        assertTrue(ExitStatus.exited(0, NONE).crashCode().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> ExitStatus.crashed(0x80000003, NONE));
        assertThrows(IllegalArgumentException.class, () -> ExitStatus.signaled(0, false, NONE));
    }

    @Test
    void resourceUsage() {
        ResourceUsage u = new ResourceUsage(Duration.ofMillis(12), Duration.ofMillis(4), 3 * 1048576L + 209715);
        assertEquals("user 0.012s, system 0.004s, max RSS 3.2 MiB (the kernel's figure: counts the JVM's at the spawn)", u.toString());
        assertEquals(Duration.ofMillis(16), u.totalCpuTime());
        assertThrows(IllegalArgumentException.class, () -> new ResourceUsage(Duration.ofMillis(-1), Duration.ZERO, 0));
    }

    @Test
    void spawnStepsMatchTheCore() {
        for (SpawnStep s : SpawnStep.values()) {
            if (s.nativeCode() >= 0) {
                assertEquals(Native.stepName(s.nativeCode()), s.stepName(), s.name());
                assertEquals(s, SpawnStep.ofNative(s.nativeCode()));
            }
        }
        for (int code = Native.STEP_VALIDATE; code < Native.STEP_COUNT; code++) {
            assertTrue(SpawnStep.ofNative(code) != SpawnStep.UNKNOWN, "no SpawnStep for core step " + code);
        }
        assertEquals(SpawnStep.UNKNOWN, SpawnStep.ofNative(99));
    }

    @Test
    void errnoNamesAndDescriptions() {
        assertEquals("ENOENT", Native.errnoName(2));
        assertEquals("EMFILE", Native.errnoName(24));
        assertEquals("No such file or directory", Native.strerror(2));
        assertEquals("No such file or directory (ENOENT)", Native.describe(2));
        assertEquals("errno 4095", Native.errnoName(4095));
    }

    @Test
    void theCoreUsesAPidfdStrategyHere() {
        int s = Native.spawnStrategy();
        assertTrue(s >= Native.STRATEGY_CLONE3 && s <= Native.STRATEGY_PID_ONLY, "strategy " + s);
        assertFalse(Native.strategyName(s).isEmpty());
    }

    @Test
    void signalsByName() {
        assertEquals(Signal.TERM, Signal.byName("TERM"));
        assertEquals(Signal.TERM, Signal.byName("sigterm"));
        assertEquals(Signal.KILL, Signal.byName(" 9 "));
        assertEquals(Signal.HUP, Signal.byName("SIGHUP"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Signal.byName("NOPE"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Signal.byName("0"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Signal.byName("99999999999"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Signal.byName(""));
    }
}
