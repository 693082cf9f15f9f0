package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.blivet.common.RLimit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * blivet-spawn-protocol.h against HelperProtocol and HelperFailure: the plan's magic and keys, the
 * fds, the report's letters, the failure steps and checks, the rlimit names and the helper's exit
 * code. Either side changed alone fails here, before any helper runs with the other.
 */
class HelperProtocolTest {
    private static final Path HEADER = Path.of("src/main/c/blivet-spawn-protocol.h");
    private static String header;

    @BeforeAll
    static void readHeader() throws IOException {
        header = Files.readString(HEADER);
    }

    /** The quoted names of one X-macro list, e.g. PLAN_KEYS: X(KEY_EXEC, "exec") gives "exec". */
    private static Set<String> list(String macro) {
        Matcher body = Pattern.compile("#define " + macro + "\\(X\\)((?:[^\\n]*\\\\\\n)*[^\\n]*)").matcher(header);
        if (!body.find()) {
            throw new AssertionError("no list " + macro + " in " + HEADER);
        }
        Set<String> names = new TreeSet<>();
        Matcher item = Pattern.compile("X\\((?:\\w+, )?\"([^\"]+)\"").matcher(body.group(1));
        while (item.find()) {
            names.add(item.group(1));
        }
        assertFalse(names.isEmpty(), macro + " read as empty: has the header's layout changed?");
        return names;
    }

    /** The enumerators of the header's one-line enums, e.g. PLAN_FD = 3, REPORT_EXEC = 'P'. */
    private static Map<String, Integer> enumerators() {
        Map<String, Integer> values = new TreeMap<>();
        Matcher m = Pattern.compile("(\\w+) = (?:(\\d+)|'(.)')").matcher(header);
        while (m.find()) {
            values.put(m.group(1), m.group(2) != null ? Integer.parseInt(m.group(2)) : (int) m.group(3).charAt(0));
        }
        return values;
    }

    private static <E extends Enum<E>> Set<String> wires(E[] values, java.util.function.Function<E, String> wire) {
        return Arrays.stream(values).map(wire).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void theMagicAndTheFdsAgree() {
        Matcher magic = Pattern.compile("#define PLAN_MAGIC \"([^\"]*)\"").matcher(header);
        assertEquals(true, magic.find(), "PLAN_MAGIC in " + HEADER);
        assertEquals(HelperProtocol.MAGIC, magic.group(1));
        Map<String, Integer> values = enumerators();
        assertEquals(HelperProtocol.PLAN_FD, values.get("PLAN_FD"));
        assertEquals(HelperProtocol.REPORT_FD, values.get("REPORT_FD"));
        assertEquals(HelperProtocol.READY_FD, values.get("READY_FD"));
        assertEquals(HelperProtocol.CGROUP_FD, values.get("CGROUP_FD"));
    }

    @Test
    void theReportLettersAndTheExitCodeAgree() {
        Map<String, Integer> values = enumerators();
        assertEquals((int) HelperProtocol.FORKED, values.get("REPORT_FORKED"));
        assertEquals((int) HelperProtocol.PIDFILE, values.get("REPORT_PIDFILE"));
        assertEquals((int) HelperProtocol.OUTPUT, values.get("REPORT_OUTPUT"));
        assertEquals((int) HelperProtocol.EXEC, values.get("REPORT_EXEC"));
        assertEquals((int) HelperProtocol.FAILED, values.get("REPORT_FAILED"));
        assertEquals(HelperProtocol.HELPER_FAILED.code(), values.get("HELPER_FAILED"));
    }

    @Test
    void thePlanKeysAgree() {
        assertEquals(wires(HelperProtocol.PlanKey.values(), HelperProtocol.PlanKey::key), list("PLAN_KEYS"));
    }

    @Test
    void theFailureStepsAndChecksAgree() {
        assertEquals(wires(HelperFailure.Step.values(), HelperFailure.Step::wire), list("STEPS"));
        assertEquals(wires(HelperFailure.Check.values(), HelperFailure.Check::wire), list("CHECKS"));
    }

    @Test
    void theRlimitNamesAgree() {
        assertEquals(new TreeSet<>(RLimit.NAMES), list("RLIMITS"));
    }
}
