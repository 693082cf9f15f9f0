package dev.blivet.ctl;

import java.io.IOException;
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
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseUnsignedInt(field(line.substring(4), 1));
                }
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
