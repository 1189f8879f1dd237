package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Line streaming bounds a line: a long one arrives in pieces, nothing is lost. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LineLengthTest {

    @Test
    void anUnterminatedLineLongerThanTheDefaultArrivesInPieces() throws Exception {
        List<Integer> lengths = new CopyOnWriteArrayList<>();
        List<Boolean> allX = new CopyOnWriteArrayList<>();
        try (Child c = Command.of("sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x").stdout(Stdio.piped()).spawn()) {
            c.onStdoutLine(line -> {
                lengths.add(line.length());
                allX.add(line.chars().allMatch(ch -> ch == 'x'));
            }).get(60, TimeUnit.SECONDS);
            assertTrue(c.waitFor().success());
        }
        int max = Child.DEFAULT_MAX_LINE_LENGTH;
        assertEquals(List.of(max, max, 3_000_000 - 2 * max), lengths);
        assertTrue(allX.stream().allMatch(b -> b));
    }

    @Test
    void aChosenMaximumSplitsLinesButNeverASurrogatePair() throws Exception {
        // "abcd" + U+1F600 (a surrogate pair) + "ef\n" + "gh\n": with 5 chars at most, the pair
        // would straddle the cut, so the first piece is one shorter.
        String text = "abcd\uD83D\uDE00ef\ngh\n";
        List<String> lines = new CopyOnWriteArrayList<>();
        try (Child c = Command.of("cat").stdin(Stdio.piped()).stdout(Stdio.piped()).spawn()) {
            var done = c.onStdoutLine(StandardCharsets.UTF_8, 5, Runnable::run, lines::add);
            try (var in = c.stdin()) {
                in.write(text.getBytes(StandardCharsets.UTF_8));
            }
            done.get(30, TimeUnit.SECONDS);
            c.waitFor();
        }
        assertEquals(List.of("abcd", "\uD83D\uDE00ef", "gh"), lines);
        try (Child c = Command.of("true").stdout(Stdio.piped()).spawn()) {
            assertThrows(IllegalArgumentException.class,
                    () -> c.onStdoutLine(StandardCharsets.UTF_8, 1, Runnable::run, l -> { }));
            c.waitFor();
        }
    }

    @Test
    void fourHundredMillionCharsWithoutANewlineInA64MiBHeap() throws Exception {
        List<String> lines = OutputSizeTest.runSmallHeap("lines");
        assertEquals("completed", OutputSizeTest.line(lines, "lines"));
        assertEquals("400000000", OutputSizeTest.line(lines, "chars"));
        assertEquals(String.valueOf(Child.DEFAULT_MAX_LINE_LENGTH), OutputSizeTest.line(lines, "longest"));
        assertTrue(OutputSizeTest.line(lines, "exit").contains("exit 0"), lines::toString);
    }
}
