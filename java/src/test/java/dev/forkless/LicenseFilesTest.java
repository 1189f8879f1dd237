package dev.forkless;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import org.junit.jupiter.api.Test;

/**
 * The Apache-2.0 {@code LICENSE} and the {@code NOTICE} at the root of the project travel with the
 * classes as {@code META-INF/LICENSE} and {@code META-INF/NOTICE}. Surefire runs this on
 * {@code target/classes}, Failsafe on the packaged jar ({@code forkless.test.expectedSource} says
 * which), so the jar itself is checked, byte for byte against the files at the root. The entries
 * are looked up where the library's own classes come from, not through the class path, where
 * another jar's {@code META-INF/LICENSE} could answer first.
 */
class LicenseFilesTest {
    private static final Path ROOT = Path.of(System.getProperty("user.dir"));

    private static byte[] fromLibrary(String entry) throws IOException, URISyntaxException {
        Path where = Path.of(Forkless.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if ("jar".equals(System.getProperty("forkless.test.expectedSource"))) {
            assertTrue(where.getFileName().toString().endsWith(".jar"), () -> "classes not from the jar: " + where);
        }
        if (Files.isDirectory(where)) {
            Path file = where.resolve(entry);
            assertTrue(Files.isRegularFile(file), () -> "missing: " + file);
            return Files.readAllBytes(file);
        }
        try (JarFile jar = new JarFile(where.toFile())) {
            ZipEntry e = jar.getEntry(entry);
            assertNotNull(e, () -> "no " + entry + " in " + where);
            try (InputStream in = jar.getInputStream(e)) {
                return in.readAllBytes();
            }
        }
    }

    @Test
    void theApacheLicenseIsCarriedAsMetaInfLicense() throws Exception {
        byte[] root = Files.readAllBytes(ROOT.resolve("LICENSE"));
        String text = new String(root, StandardCharsets.UTF_8);
        assertTrue(text.contains("Apache License\n                           Version 2.0, January 2004"), "not the Apache-2.0 text");
        assertTrue(text.contains("END OF TERMS AND CONDITIONS"), "the licence text is cut short");
        assertTrue(text.contains("APPENDIX: How to apply the Apache License to your work."), "the appendix is missing");
        assertArrayEquals(root, fromLibrary("META-INF/LICENSE"));
    }

    @Test
    void theNoticeIsCarriedAsMetaInfNotice() throws Exception {
        byte[] root = Files.readAllBytes(ROOT.resolve("NOTICE"));
        assertTrue(new String(root, StandardCharsets.UTF_8).startsWith("Forkless\n"), "NOTICE names the product first");
        assertArrayEquals(root, fromLibrary("META-INF/NOTICE"));
    }

    @Test
    void thePomDeclaresTheLicence() throws IOException {
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        int start = pom.indexOf("<licenses>");
        int end = pom.indexOf("</licenses>");
        assertTrue(start > 0 && end > start, "no <licenses> in pom.xml");
        String licenses = pom.substring(start, end);
        assertTrue(licenses.contains("<name>Apache-2.0</name>"), licenses);
        assertEquals(1, licenses.split("<license>", -1).length - 1, licenses);
    }
}
