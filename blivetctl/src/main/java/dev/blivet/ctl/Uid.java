package dev.blivet.ctl;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who runs blivetctl, from /proc rather than a native library: loading jnr would cost the
 * client's start-up more than the whole request.
 */
final class Uid {
    private Uid() {
    }

    /** The effective uid (the second field of the Uid: line of /proc/self/status). */
    static int effective() {
        // A FileInputStream, not Files.readAllLines: the JVM has its classes loaded already, while
        // a file channel and a decoder cost a status run measurable start-up. The file is ASCII.
        try (FileInputStream in = new FileInputStream("/proc/self/status")) {
            String status = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            for (int start = 0; start < status.length();) {
                int end = status.indexOf('\n', start);
                String line = status.substring(start, end < 0 ? status.length() : end);
                if (line.startsWith("Uid:")) {
                    return Integer.parseUnsignedInt(field(line.substring(4), 1));
                }
                start = end < 0 ? status.length() : end + 1;
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        throw new IllegalStateException("cannot tell the uid: /proc/self/status has no Uid line (is /proc mounted?)");
    }

    /**
     * The field at this index of whitespace-separated text, found by hand: a regex (split("\\s+"))
     * costs a blivetctl run more start-up than its whole table.
     */
    static String field(String text, int index) {
        int i = 0;
        for (int n = 0;; n++) {
            while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < text.length() && !Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (start == i) {
                throw new IllegalArgumentException("no field " + index + " in: " + text);
            }
            if (n == index) {
                return text.substring(start, i);
            }
        }
    }

    /** "uid 65534 (nobody)", the name from /etc/passwd when it has one. */
    static String describe(int uid) {
        String id = Integer.toUnsignedString(uid);
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] fields = line.split(":", 4);
                if (fields.length >= 3 && fields[2].equals(id)) {
                    return "uid " + id + " (" + fields[0] + ")";
                }
            }
        } catch (IOException | RuntimeException e) {
            // the number alone will do
        }
        return "uid " + id;
    }
}
