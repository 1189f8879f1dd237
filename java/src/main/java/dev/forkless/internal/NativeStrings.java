package dev.forkless.internal;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Turns Java strings into the bytes the operating system sees (program names, arguments,
 * environment, paths) and back.
 *
 * <p>The charset is the one the JDK itself uses for file names and the environment,
 * {@code sun.jnu.encoding} (UTF-8 under any UTF-8 locale), so a {@link Path} and a string naming
 * the same file produce the same bytes. One exception: when that charset is plain ASCII (the POSIX
 * "C" locale, common in containers and CI), UTF-8 is used instead, because ASCII cannot carry
 * anything else and the JDK would otherwise replace every other character with '?'.
 *
 * <p>A string the charset cannot represent is rejected ({@link IllegalArgumentException}), never
 * silently altered.
 */
public final class NativeStrings {
    /** The charset for every string that crosses into the OS. */
    public static final Charset CHARSET = pick(System.getProperty("sun.jnu.encoding"));

    private static final ThreadLocal<CharsetEncoder> ENCODER =
            ThreadLocal.withInitial(() -> CHARSET.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT));

    private NativeStrings() {
    }

    private static Charset pick(String name) {
        if (name == null) {
            return StandardCharsets.UTF_8;
        }
        try {
            Charset c = Charset.forName(name);
            return c.equals(StandardCharsets.US_ASCII) ? StandardCharsets.UTF_8 : c;
        } catch (IllegalArgumentException e) { // unsupported or illegal name
            return StandardCharsets.UTF_8;
        }
    }

    /**
     * Encodes a string.
     *
     * @param s the string
     * @param what names the string in the exception message, e.g. {@code "argument 2"}
     * @return its bytes, without a terminator
     * @throws IllegalArgumentException if the charset cannot represent it (a lone surrogate, or a
     *     character outside a non-Unicode charset)
     */
    public static byte[] encode(String s, String what) {
        if (CHARSET.equals(StandardCharsets.UTF_8) && isAscii(s)) {
            return s.getBytes(StandardCharsets.ISO_8859_1); // the common case, without an encoder
        }
        try {
            ByteBuffer b = ENCODER.get().reset().encode(CharBuffer.wrap(s));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " cannot be represented in the platform encoding "
                    + CHARSET.name() + ": " + quote(s), e);
        }
    }

    /**
     * Encodes a path.
     *
     * @param p the path
     * @param what names it in the exception message
     * @return its bytes, without a terminator
     * @throws IllegalArgumentException if the path cannot be represented
     */
    public static byte[] encode(Path p, String what) {
        return encode(p.toString(), what);
    }

    /**
     * Decodes bytes from the OS (messages, names), replacing anything malformed.
     *
     * @param b the bytes
     * @return the string
     */
    public static String decode(byte[] b) {
        return new String(b, CHARSET);
    }

    /**
     * Checks that a string can cross into the OS: no NUL character, representable in
     * {@link #CHARSET}.
     *
     * @param s the string
     * @param what names it in the message, e.g. {@code "argument 2"}
     * @return s
     * @throws IllegalArgumentException naming the string and the problem
     */
    public static String checkCString(String s, String what) {
        int nul = s.indexOf('\0');
        if (nul >= 0) {
            throw new IllegalArgumentException(what + " contains a NUL character at index " + nul
                    + ": " + quote(s));
        }
        encode(s, what);
        return s;
    }

    /**
     * Quotes a string for a message, showing control characters as escapes.
     *
     * @param s the string
     * @return {@code 's'} with {@code \0}, {@code \n} and other control characters escaped
     */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('\'');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\0') {
                sb.append("\\0");
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }
}
