package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs blivet-spawn on its own: a hand-written plan on fd 3 and a report file on fd 4, as
 * blivetd's posix_spawn would hand them over, but with no Java validation in front.
 *
 * @param exit how the helper (the intermediate, once it has forked) exited
 * @param report the file its report lines, and its daemon's, are appended to
 * @param jobUser the plan's uid record, if any: the job's user, as the launcher would know it
 */
record HelperRun(int exit, Path report, OptionalInt jobUser) {
    static final Path HELPER = HelperSpawner.locateHelper();
    static final Duration WAIT = Duration.ofSeconds(20);
    /** Only for strerror: no reaper, which would take sh's exit status from Process. */
    private static final NativeOs OS = new NativeOs();

    static byte[] plan(String magic, List<String> records) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((magic + "\0").getBytes(StandardCharsets.UTF_8));
        for (String record : records) {
            out.writeBytes((record + "\0").getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /** Runs the helper through sh, which opens fd 3 and 4 for it; shellSetup runs before the exec. */
    static HelperRun run(Path dir, String shellSetup, boolean reportPipe, byte[] plan) throws Exception {
        Path planFile = Files.write(dir.resolve("plan"), plan);
        Path report = dir.resolve("report");
        Files.deleteIfExists(report);
        Files.createFile(report);
        String redirects = reportPipe ? " 3<\"$1\" 4>>\"$2\"" : " 3<\"$1\"";
        Process helper = new ProcessBuilder("/bin/sh", "-c", shellSetup + " exec \"$0\"" + redirects,
                HELPER.toString(), planFile.toString(), report.toString())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true)
                .start();
        assertTrue(helper.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "the helper exits at once");
        return new HelperRun(helper.exitValue(), report, uidRecord(plan));
    }

    private static OptionalInt uidRecord(byte[] plan) {
        return Arrays.stream(new String(plan, StandardCharsets.UTF_8).split("\0"))
                .filter(record -> record.matches("uid=\\d{1,10}")) // the plan tests' broken uids are no user
                .mapToLong(record -> Long.parseLong(record.substring(4)))
                .mapToInt(uid -> (int) uid)
                .findFirst();
    }

    static HelperRun run(Path dir, List<String> records) throws Exception {
        return run(dir, "", true, plan("BLVT1", records));
    }

    String text() {
        try {
            return Files.readString(report);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * The failure the helper reported, worded as blivetd words it: "E&lt;exit code&gt; &lt;message&gt;".
     * Waits for it, as the daemon may report after the intermediate exited.
     */
    String awaitError() {
        HelperFailure failure = HelperFailure.parse(awaitLine("E").substring(1));
        LaunchException e = failure.explain(OS::strerror, jobUser);
        return "E" + e.code().code() + " " + e.getMessage();
    }

    /** The daemon's lines may come after the intermediate exited (and F and P in either order): waits for one. */
    String awaitLine(String prefix) {
        Pattern line = Pattern.compile("^" + Pattern.quote(prefix) + "[^\n]*$", Pattern.MULTILINE);
        Await.until(WAIT, () -> line.matcher(text()).find(), "a report line starting with " + prefix + " in: " + text());
        Matcher m = line.matcher(text());
        m.find();
        return m.group();
    }
}
