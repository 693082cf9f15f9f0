package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * docs/jobspec.schema.json against the parser ({@link JobSpecJson} and {@link JobSpecResolver}):
 * over a corpus of good and bad specs, each is accepted by both or refused by both. The bad ones
 * break one structural rule each (a key, a type, an enum, a pattern, a range), the kind the schema
 * can say; the parser's rules that need the file system, users or a comparison between keys are
 * out of the corpus, and the resolver runs against a permissive {@link World}. Then the facts the
 * schema repeats (key names, enum values, limits) are checked against their one place in Java.
 */
class SchemaTest {
    static final Path SCHEMA = Path.of("..", "docs", "jobspec.schema.json");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MINIMAL = "{\"name\": \"web\", \"command\": [\"/usr/bin/web\"]}";

    static MiniSchema schema() throws IOException {
        return new MiniSchema(JSON.readTree(SCHEMA.toFile()));
    }

    static JsonNode schemaTree() throws IOException {
        return JSON.readTree(SCHEMA.toFile());
    }

    /** Specs both must accept. */
    static List<String> good() {
        return List.of(
                MINIMAL,
                """
                {"name": "a123456789012345678901234567890123456789012345678901234567890123",
                 "command": ["sh", "-c", "exit 0", ""]}""",
                """
                {"name": "Web-1_2.x@host", "command": ["/usr/bin/web", "--port", "8080"],
                 "env": {"MODE": "production", "EMPTY": "", "ÜNICODE": "é"}, "inherit_env": true,
                 "chdir": "/srv", "chroot": "/jail", "umask": "027", "user": "www", "group": "www",
                 "pidfile": "/run/web.pid", "lockfile": "/run/web.lock", "stdout": "/var/log/web.log",
                 "stderr": "/var/log/web.log", "append": true,
                 "rlimits": {"nofile": 4096, "core": "infinity", "nproc": {"soft": 10, "hard": "infinity"},
                             "as": {"soft": 0, "hard": 9223372036854775807}},
                 "readiness": "notify-fd", "notify_fd": 255, "ready_timeout": 86400, "start_grace": 0.25,
                 "restart": "on-failure", "success_exit_codes": [0, 255], "restart_delay": 0,
                 "restart_delay_max": 86400, "restart_limit": 2147483647, "restart_window": 0.001,
                 "stop_signal": "SIGINT", "stop_timeout": 0, "autostart": false}""",
                """
                {"name": "nulls", "command": ["/bin/true"], "env": null, "inherit_env": null, "chdir": null,
                 "chroot": null, "umask": null, "user": null, "group": null, "pidfile": null, "lockfile": null,
                 "stdout": null, "stderr": null, "append": null, "rlimits": null, "readiness": null,
                 "notify_fd": null, "ready_timeout": null, "start_grace": null, "restart": null,
                 "success_exit_codes": null, "restart_delay": null, "restart_delay_max": null,
                 "restart_limit": null, "restart_window": null, "stop_signal": null, "stop_timeout": null,
                 "autostart": null, "memory_max": null, "tasks_max": null, "cpu_max": null, "cpu_weight": null}""",
                """
                {"name": "limits", "command": ["/bin/true"], "memory_max": "512M", "tasks_max": 64, "cpu_max": "50%",
                 "cpu_weight": 10000}""",
                "{\"name\": \"f\", \"command\": [\"/bin/true\"], \"readiness\": \"forking\", \"pidfile\": \"/run/f.pid\"}",
                "{\"name\": \"n\", \"command\": [\"/bin/true\"], \"readiness\": \"notify-fd\"}",
                "{\"name\": \"s\", \"command\": [\"/bin/true\"], \"readiness\": \"sd-notify\", \"restart\": \"always\"}",
                "{\"name\": \"9\", \"command\": [\"/bin/true\"], \"stop_signal\": \" term \", \"umask\": \"0\"}",
                "{\"name\": \"k\", \"command\": [\"/bin/true\"], \"stop_signal\": \"64\", \"umask\": \"0777\"}",
                "{\"name\": \"k\", \"command\": [\"/bin/true\"], \"stop_signal\": \"09\", \"umask\": \"777\"}",
                "{\"name\": \"e\", \"command\": [\"/bin/true\"], \"success_exit_codes\": [], \"rlimits\": {}}",
                "{\"name\": \"e\", \"command\": [\"/bin/true\"], \"env\": {}, \"user\": \"1000\", \"group\": \"0\"}");
    }

    /** One key, each value breaking one structural rule, added to a minimal spec. */
    static List<String> bad() {
        return List.of(
                "\"unknown_key\": 1",
                "\"Name\": \"web\"",
                "\"name\": \"\"", "\"name\": \"-web\"", "\"name\": \"web/1\"", "\"name\": 5", "\"name\": null",
                "\"name\": \"a1234567890123456789012345678901234567890123456789012345678901234\"",
                "\"name\": \"blivetd-rehearsal\"",
                "\"command\": []", "\"command\": \"/bin/true\"", "\"command\": [5]", "\"command\": [null]",
                "\"command\": [\"bin/app\"]", "\"command\": [\"./app\"]", "\"command\": [\"\"]", "\"command\": null",
                "\"command\": [\"/bin/a\\u0000b\"]", "\"command\": [\"/bin/true\", \"a\\u0000\"]",
                "\"command\": [\"/bin/true\", 1]",
                "\"env\": {\"A=B\": \"x\"}", "\"env\": {\"\": \"x\"}", "\"env\": {\"A\": 5}", "\"env\": {\"A\": null}",
                "\"env\": []", "\"env\": {\"A\": \"\\u0000\"}",
                "\"inherit_env\": \"yes\"", "\"inherit_env\": 1",
                "\"chdir\": \"srv\"", "\"chdir\": 5", "\"chdir\": \"\"", "\"chroot\": \"jail\"",
                "\"umask\": \"999\"", "\"umask\": \"0o22\"", "\"umask\": 18", "\"umask\": \"01234\"", "\"umask\": \"\"",
                "\"user\": 5", "\"user\": \"\"", "\"user\": \"a\\u0000\"", "\"group\": 0", "\"group\": \"\"",
                "\"pidfile\": \"run/web.pid\"", "\"pidfile\": \"/\"", "\"lockfile\": \"//\"", "\"stdout\": 1",
                "\"stderr\": \"log\"", "\"stdout\": \"/a\\u0000\"",
                "\"append\": \"true\"", "\"append\": 0",
                "\"rlimits\": {\"nofile\": -1}", "\"rlimits\": {\"bogus\": 1}", "\"rlimits\": {\"NOFILE\": 1}",
                "\"rlimits\": {\"nofile\": \"lots\"}", "\"rlimits\": {\"nofile\": {\"soft\": 1}}",
                "\"rlimits\": {\"nofile\": {\"soft\": 1, \"hard\": 2, \"max\": 3}}", "\"rlimits\": {\"nofile\": 1.5}",
                "\"rlimits\": {\"nofile\": null}", "\"rlimits\": {\"nofile\": 9223372036854775808}", "\"rlimits\": []",
                "\"readiness\": \"ready\"", "\"readiness\": 1", "\"readiness\": \"EXEC\"",
                "\"notify_fd\": 5", "\"readiness\": \"exec\", \"notify_fd\": 4",
                "\"readiness\": \"notify-fd\", \"notify_fd\": 2", "\"readiness\": \"notify-fd\", \"notify_fd\": 256",
                "\"readiness\": \"notify-fd\", \"notify_fd\": \"3\"", "\"readiness\": \"notify-fd\", \"notify_fd\": 3.5",
                "\"ready_timeout\": 0", "\"ready_timeout\": -1", "\"ready_timeout\": 86401", "\"ready_timeout\": \"30\"",
                "\"start_grace\": -0.5", "\"start_grace\": 86400.5", "\"start_grace\": true",
                "\"restart\": \"sometimes\"", "\"restart\": true",
                "\"success_exit_codes\": [256]", "\"success_exit_codes\": [-1]", "\"success_exit_codes\": [\"0\"]",
                "\"success_exit_codes\": 0", "\"success_exit_codes\": [1.5]", "\"success_exit_codes\": [null]",
                "\"restart_delay\": -1", "\"restart_delay_max\": 90000", "\"restart_limit\": -1",
                "\"restart_limit\": 1.5", "\"restart_limit\": 2147483648", "\"restart_window\": 0",
                "\"restart_window\": 86401",
                "\"stop_signal\": \"BOGUS\"", "\"stop_signal\": \"0\"", "\"stop_signal\": \"65\"", "\"stop_signal\": 15",
                "\"stop_signal\": \"SIG\"", "\"stop_signal\": \"\"",
                "\"stop_timeout\": -1", "\"stop_timeout\": 86401", "\"autostart\": \"yes\"",
                "\"readiness\": \"forking\"", "\"readiness\": \"forking\", \"pidfile\": null",
                "\"memory_max\": 512", "\"memory_max\": \"512X\"", "\"memory_max\": \"0\"", "\"memory_max\": \"1.5G\"",
                "\"tasks_max\": 0", "\"tasks_max\": 4194305", "\"tasks_max\": \"64\"",
                "\"cpu_max\": \"50\"", "\"cpu_max\": \"0%\"", "\"cpu_max\": 50", "\"cpu_max\": \"1000000%\"",
                "\"cpu_weight\": 0", "\"cpu_weight\": 10001");
    }

    @ParameterizedTest
    @MethodSource("good")
    void aGoodSpecIsAcceptedByBoth(String spec) throws Exception {
        assertEquals(List.of(), schema().errors(JSON.readTree(spec)), "schema refuses " + spec);
        new JobSpecResolver(new World(), new World(), java.util.Map.of()).resolve(new JobSpecJson().parse(spec));
    }

    @ParameterizedTest
    @MethodSource("bad")
    void aBadSpecIsRefusedByBoth(String member) throws Exception {
        String spec = withMember(member);
        assertTrue(!schema().errors(JSON.readTree(spec)).isEmpty(), "schema accepts " + spec);
        assertThrows(SpecException.class, () -> new JobSpecResolver(new World(), new World(), java.util.Map.of())
                .resolve(new JobSpecJson().parse(spec)), "parser accepts " + spec);
    }

    private static String withMember(String member) {
        String name = member.substring(1, member.indexOf('"', 1));
        if (name.equals("name") || name.equals("command")) {
            String other = name.equals("name") ? "\"command\": [\"/usr/bin/web\"]" : "\"name\": \"web\"";
            return "{" + other + ", " + member + "}";
        }
        return MINIMAL.substring(0, MINIMAL.length() - 1) + ", " + member + "}";
    }

    @Test
    void theSchemaNamesExactlyTheKeysOfAJobSpec() throws IOException {
        Set<String> keys = new TreeSet<>();
        schemaTree().path("properties").fieldNames().forEachRemaining(keys::add);
        Set<String> fields = Arrays.stream(JobSpec.class.getRecordComponents()).map(SchemaTest::jsonName)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(fields, keys);
    }

    @Test
    void theSchemasEnumsAndLimitsAreJavasOwn() throws IOException {
        JsonNode properties = schemaTree().path("properties");
        assertEquals(Arrays.stream(Readiness.values()).map(Readiness::jsonName).collect(Collectors.toSet()),
                texts(properties.at("/readiness/anyOf/0/enum")));
        assertEquals(Arrays.stream(RestartPolicy.values()).map(RestartPolicy::jsonName).collect(Collectors.toSet()),
                texts(properties.at("/restart/anyOf/0/enum")));
        assertEquals(RLimit.NAMES, texts(properties.at("/rlimits/anyOf/0/propertyNames/enum")));
        assertEquals(ReservedName.REHEARSAL, properties.at("/name/not/const").asText());
        assertEquals(Defaults.MAX_NOTIFY_FD, properties.at("/notify_fd/anyOf/0/maximum").asInt());
        assertEquals(Defaults.NOTIFY_FD, properties.at("/notify_fd/default").asInt());
        for (String duration : List.of("ready_timeout", "start_grace", "restart_delay", "restart_delay_max",
                "restart_window", "stop_timeout")) {
            assertEquals(Defaults.MAX_SECONDS, properties.at("/" + duration + "/anyOf/0/maximum").asInt(), duration);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ready_timeout", "start_grace", "restart_delay", "restart_delay_max", "restart_window",
            "stop_timeout"})
    void theMaximumDurationIsAcceptedAndOneMoreIsNot(String key) throws Exception {
        String spec = "\"" + key + "\": " + Defaults.MAX_SECONDS + (key.equals("restart_delay")
                ? ", \"restart_delay_max\": " + Defaults.MAX_SECONDS : "");
        aGoodSpecIsAcceptedByBoth(withMember(spec));
        aBadSpecIsRefusedByBoth("\"" + key + "\": " + (Defaults.MAX_SECONDS + 1));
    }

    private static Set<String> texts(JsonNode array) {
        Set<String> texts = new TreeSet<>();
        array.forEach(node -> texts.add(node.asText()));
        assertTrue(!texts.isEmpty(), "no such enum in the schema");
        return texts;
    }

    private static String jsonName(RecordComponent component) {
        JsonProperty property = component.getAccessor().getAnnotation(JsonProperty.class);
        if (property == null) {
            property = component.getAnnotation(JsonProperty.class);
        }
        return property != null ? property.value() : component.getName();
    }

    /**
     * A permissive system for the corpus: every user and group exists; a path in a directory
     * named bin or sbin is a program anyone may execute ({@code /usr/bin/web}); a name with a dot
     * is a file not made yet ({@code /run/web.pid}); any other path is a directory
     * ({@code /srv}, {@code /var/log}).
     */
    static final class World implements Accounts, SystemProbe {
        @Override
        public Optional<Account> user(String nameOrUid) {
            return nameOrUid.isEmpty() ? Optional.empty()
                    : Optional.of(new Account(nameOrUid, 1000, 1000, "/home/" + nameOrUid, "/bin/sh"));
        }

        @Override
        public Optional<Account> user(int uid) {
            return Optional.of(new Account("u" + uid, uid, uid, "/home/u" + uid, "/bin/sh"));
        }

        @Override
        public Optional<Integer> group(String nameOrGid) {
            return nameOrGid.isEmpty() ? Optional.empty() : Optional.of(1000);
        }

        @Override
        public int[] groupsOf(Account account, int primaryGid) {
            return new int[] {primaryGid};
        }

        @Override
        public int effectiveUid() {
            return 0;
        }

        @Override
        public PathFacts look(Path path) {
            // Each path its own inode, so that only equal paths are the same file.
            long inode = path.toString().hashCode() & 0xffffffffL;
            Path name = path.getFileName();
            Path parent = path.getParent() == null ? null : path.getParent().getFileName();
            if (parent != null && (parent.toString().equals("bin") || parent.toString().equals("sbin"))) {
                return new PathFacts(0100755, 1, inode, 0, 0, 1); // a regular file, rwxr-xr-x
            }
            return name != null && name.toString().contains(".") ? PathFacts.MISSING
                    : new PathFacts(0040755, 1, inode, 0, 0, 1); // a directory, rwxr-xr-x
        }

        @Override
        public PathFacts follow(Path path) {
            return look(path);
        }

        @Override
        public Optional<String> whyNotWritable(Path path) {
            return Optional.empty();
        }

        @Override
        public boolean isExecutable(Path file) {
            return true;
        }
    }
}
