package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs blivetctl in-process, as main would (with picocli or through {@link Shortcut}), capturing
 * its exit code, stdout and stderr.
 */
final class Cli {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one run of blivetctl did. */
    record Result(int code, String out, String err) {
        JsonNode json() {
            try {
                return JSON.readTree(out);
            } catch (IOException e) {
                throw new UncheckedIOException("not one JSON document: " + this, e);
            }
        }

        /** JSON lines (streams). */
        List<JsonNode> jsonLines() {
            List<JsonNode> lines = new ArrayList<>();
            for (String line : out.split("\n")) {
                if (!line.isBlank()) {
                    try {
                        lines.add(JSON.readTree(line));
                    } catch (IOException e) {
                        throw new UncheckedIOException("not a JSON line: " + line, e);
                    }
                }
            }
            return lines;
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Output a test may read while the command still runs (streams). */
    static final class Live {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        volatile Integer code;
    }

    private Cli() {
    }

    static Result run(String... args) {
        Live live = new Live();
        int code = run(live, args);
        return new Result(code, live.out.toString(), live.err.toString());
    }

    /** Runs blivetctl through picocli even where main would take {@link Shortcut}. */
    static Result runWithPicocli(String... args) {
        Live live = new Live();
        int code = Main.newCommandLine(args).setOut(new PrintWriter(live.out, true))
                .setErr(new PrintWriter(live.err, true)).execute(args);
        return new Result(code, live.out.toString(), live.err.toString());
    }

    static int run(Live live, String... args) {
        int code = Main.run(new PrintWriter(live.out, true), new PrintWriter(live.err, true), args);
        live.code = code;
        return code;
    }
}
