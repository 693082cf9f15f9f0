package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What {@link JobSpecJson} accepts, and that every refusal names the key at fault. */
class JobSpecJsonTest {
    private final JobSpecJson json = new JobSpecJson();

    /** Every key docs/jobspec.md lists, each with a value of its type. */
    private static final String FULL = """
            {
              "name": "web",
              "command": ["/usr/bin/web", "--port", "8080"],
              "env": {"MODE": "production", "EMPTY": ""},
              "chdir": "/srv/web",
              "umask": "027",
              "user": "www-data",
              "group": "www-data",
              "pidfile": "/run/web.pid",
              "lockfile": "/run/web.lock",
              "stdout": "/var/log/web.log",
              "stderr": "/var/log/web.err",
              "append": true,
              "chroot": "/srv/jail",
              "rlimits": {"nofile": 4096, "core": "infinity", "nproc": {"soft": 100, "hard": 200}},
              "readiness": "notify-fd",
              "notify_fd": 4,
              "ready_timeout": 12.5,
              "start_grace": 2,
              "inherit_env": false,
              "restart": "on-failure",
              "success_exit_codes": [0, 3],
              "restart_delay": 0.5,
              "restart_delay_max": 30,
              "restart_limit": 4,
              "restart_window": 120,
              "stop_signal": "INT",
              "stop_timeout": 5,
              "autostart": true
            }
            """;

    private JobSpec parses(String text) {
        try {
            return json.parse(text);
        } catch (SpecException e) {
            throw new AssertionError("expected to parse: " + text + "\n got: " + e.getMessage(), e);
        }
    }

    /** Rejected with 64, one problem, whose message holds every culprit. */
    private SpecException rejects(String text, String... culprits) {
        SpecException e = assertThrows(SpecException.class, () -> json.parse(text), () -> "expected a rejection: " + text);
        assertEquals(ExitCode.USAGE, e.code(), e::getMessage);
        assertEquals(1, e.problems().size(), e::getMessage);
        assertTrue(e.getMessage().startsWith("invalid job spec: "), e::getMessage);
        for (String culprit : culprits) {
            assertTrue(e.getMessage().contains(culprit), () -> "message should name " + culprit + ": " + e.getMessage());
        }
        return e;
    }

    /** A minimal valid spec plus {@code moreKeys}, which replace its name or command when they give one. */
    private static String web(String moreKeys) {
        List<String> keys = new java.util.ArrayList<>();
        if (!moreKeys.startsWith("\"name\"")) {
            keys.add("\"name\": \"web\"");
        }
        if (!moreKeys.startsWith("\"command\"")) {
            keys.add("\"command\": [\"/bin/true\"]");
        }
        if (!moreKeys.isEmpty()) {
            keys.add(moreKeys);
        }
        return "{" + String.join(", ", keys) + "}";
    }

    @Test
    void duplicateKeysAreRejected() {
        rejects("{\"name\": \"web\", \"command\": [\"/bin/true\"], \"user\": \"nobody\", \"user\": \"root\"}",
                "Duplicate field 'user'");
    }

    @Test
    void everyKeyParses() {
        JobSpec spec = parses(FULL);
        assertEquals("web", spec.name());
        assertEquals(List.of("/usr/bin/web", "--port", "8080"), spec.command());
        assertEquals(Map.of("MODE", "production", "EMPTY", ""), spec.env());
        assertEquals("/srv/web", spec.chdir());
        assertEquals("027", spec.umask());
        assertEquals("www-data", spec.user());
        assertEquals("www-data", spec.group());
        assertEquals("/run/web.pid", spec.pidfile());
        assertEquals("/run/web.lock", spec.lockfile());
        assertEquals("/var/log/web.log", spec.stdout());
        assertEquals("/var/log/web.err", spec.stderr());
        assertEquals(Boolean.TRUE, spec.append());
        assertEquals("/srv/jail", spec.chroot());
        assertEquals(4096, spec.rlimits().get("nofile").asInt());
        assertEquals("infinity", spec.rlimits().get("core").asText());
        assertEquals(200, spec.rlimits().get("nproc").get("hard").asInt());
        assertEquals(Readiness.NOTIFY_FD, spec.readiness());
        assertEquals(4, spec.notifyFd());
        assertEquals(12.5, spec.readyTimeout());
        assertEquals(2.0, spec.startGrace());
        assertEquals(Boolean.FALSE, spec.inheritEnv());
        assertEquals(RestartPolicy.ON_FAILURE, spec.restart());
        assertEquals(List.of(0, 3), spec.successExitCodes());
        assertEquals(0.5, spec.restartDelay());
        assertEquals(30.0, spec.restartDelayMax());
        assertEquals(4, spec.restartLimit());
        assertEquals(120.0, spec.restartWindow());
        assertEquals("INT", spec.stopSignal());
        assertEquals(5.0, spec.stopTimeout());
        assertEquals(Boolean.TRUE, spec.autostart());
    }

    @Test
    void absentKeysAreNull() {
        JobSpec spec = parses("{}");
        assertNull(spec.name());
        assertNull(spec.command());
        assertNull(spec.umask());
        assertNull(spec.readiness());
        assertNull(spec.notifyFd());
        assertNull(spec.append());
    }

    @Test
    void explicitNullMeansAbsent() {
        JobSpec spec = parses(web("\"user\": null, \"readiness\": null, \"append\": null"));
        assertNull(spec.user());
        assertNull(spec.readiness());
        assertNull(spec.append());
    }

    @Test
    void writeThenParseGivesTheSameSpec() {
        JobSpec spec = parses(FULL);
        String written = json.write(spec);
        assertEquals(spec, parses(written));
        assertFalse(written.contains("null"), "absent keys are left out: " + written);
        assertTrue(written.contains("\"notify_fd\":4") && written.contains("\"ready_timeout\":12.5"), written);
    }

    @ParameterizedTest
    @ValueSource(strings = {"exec", "notify-fd", "sd-notify"})
    void readinessNames(String name) {
        assertEquals(name, parses(web("\"readiness\": \"" + name + "\"")).readiness().jsonName());
    }

    @ParameterizedTest
    @ValueSource(strings = {"no", "on-failure", "always"})
    void restartNames(String name) {
        assertEquals(name, parses(web("\"restart\": \"" + name + "\"")).restart().jsonName());
    }

    @Test
    void integersAreAcceptedForSeconds() {
        JobSpec spec = parses(web("\"ready_timeout\": 5, \"start_grace\": 0"));
        assertEquals(5.0, spec.readyTimeout());
        assertEquals(0.0, spec.startGrace());
    }

    @Test
    void unicodeEscapesAreDecoded() {
        assertEquals("a\0b", parses(web("\"env\": {\"X\": \"a\\u0000b\"}")).env().get("X"),
                "a NUL survives parsing; the resolver rejects it");
    }

    // ---- unknown keys ----

    @ParameterizedTest
    @ValueSource(strings = {"colour", "Name", "notifyFd", "readyTimeout", "inheritEnv", "startGrace", "successExitCodes",
            "cwd", "working_directory", "foreground", "close_fds", "environment"})
    void unknownKeyIsNamed(String key) {
        rejects(web("\"" + key + "\": 1"), "unknown key '" + key + "'");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "cwd | chdir", "workdir | chdir", "working_directory | chdir", "environment | env", "readyTimeout | ready_timeout",
        "stop-signal | stop_signal", "comand | command", "pidflie | pidfile", "inherit_evn | inherit_env",
    })
    void unknownKeySuggestsTheKeyMeant(String typo, String meant) {
        rejects(web("\"" + typo.strip() + "\": 1"), "unknown key '" + typo.strip() + "' (did you mean '" + meant.strip() + "'?)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"colour", "foreground", "close_fds", "x", "us"})
    void unknownKeyFarFromEveryKeySuggestsNothing(String key) {
        SpecException e = rejects(web("\"" + key + "\": 1"), "unknown key '" + key + "'");
        assertFalse(e.getMessage().contains("did you mean"), e::getMessage);
    }

    @Test
    void everyUnknownKeyAndWrongTypeIsReportedAtOnce() {
        SpecException e = assertThrows(SpecException.class, () -> json.parse("{\"name\": \"web\", \"command\": [\"/bin/true\", 1], \"cwd\": \"/\", \"colour\": 1,"
                + " \"umask\": 22, \"restart\": \"on-falure\", \"readiness\": \"sd_notify\", \"env\": {\"A\": 1, \"B\": true}}"));
        assertEquals(List.of(
                "invalid job spec: 'command[1]': wrong type, expected a string",
                "invalid job spec: unknown key 'cwd' (did you mean 'chdir'?)",
                "invalid job spec: unknown key 'colour'",
                "invalid job spec: 'umask': wrong type, expected a string",
                "invalid job spec: 'restart': \"on-falure\" is not one of no, on-failure, always (did you mean \"on-failure\"?)",
                "invalid job spec: 'readiness': \"sd_notify\" is not one of exec, notify-fd, sd-notify,"
                        + " forking (did you mean \"sd-notify\"?)",
                "invalid job spec: 'env.A': wrong type, expected a string",
                "invalid job spec: 'env.B': wrong type, expected a string"),
                e.problems().stream().map(SpecProblem::toString).toList());
    }

    @Test
    void problemsListsTheShapeThenWhatTheCheckFindsInTheRest() throws Exception {
        com.fasterxml.jackson.databind.JsonNode tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"name\": \"web\", \"command\": \"/bin/true\", \"colour\": 1, \"umask\": \"999\"}");
        List<JobSpec> checked = new java.util.ArrayList<>();
        List<String> problems = json.problems(tree, spec -> {
            checked.add(spec);
            throw new SpecException(List.of(new SpecProblem(ExitCode.USAGE, "'command' is required"),
                    new SpecProblem(ExitCode.USAGE, "'umask' must be an octal string")));
        }).stream().map(SpecProblem::toString).toList();
        assertEquals(List.of("invalid job spec: 'command': wrong type, expected an array of strings",
                "invalid job spec: unknown key 'colour'", "invalid job spec: 'umask' must be an octal string"), problems);
        assertNull(checked.get(0).command(), "the check saw the spec without the keys at fault");
        assertEquals(List.of(), json.problems(((com.fasterxml.jackson.databind.node.ObjectNode) tree.deepCopy()).retain("name", "umask"), spec -> { }));
    }

    // ---- wrong types ----

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"command\": \"/bin/true\"                 | 'command': wrong type",
        "\"command\": [\"/bin/true\", {}]           | 'command[1]': wrong type",
        "\"command\": [\"/bin/true\", [\"x\"]]      | 'command[1]': wrong type",
        "\"command\": {}                            | 'command': wrong type",
        "\"env\": []                                | 'env': wrong type",
        "\"env\": \"A=B\"                           | 'env': wrong type",
        "\"env\": {\"A\": {}}                       | 'env.A': wrong type",
        "\"env\": {\"A\": [\"x\"]}                  | 'env.A': wrong type",
        "\"chdir\": []                              | 'chdir': wrong type",
        "\"pidfile\": {}                            | 'pidfile': wrong type",
        "\"append\": \"yes\"                        | 'append': wrong type",
        "\"append\": \"true\"                       | 'append': wrong type",
        "\"append\": 1                              | 'append': wrong type",
        "\"inherit_env\": \"true\"                  | 'inherit_env': wrong type",
        "\"autostart\": 0                           | 'autostart': wrong type",
        "\"ready_timeout\": \"5\"                   | 'ready_timeout': wrong type",
        "\"ready_timeout\": true                    | 'ready_timeout': wrong type",
        "\"start_grace\": [1]                       | 'start_grace': wrong type",
        "\"notify_fd\": \"3\"                       | 'notify_fd': wrong type",
        "\"readiness\": \"bogus\"                   | 'readiness': \"bogus\" is not one of exec, notify-fd, sd-notify",
        "\"kill_mode\": \"process\"                 | 'kill_mode': \"process\" is not one of all, main",
        "\"kill_mode\": true                      | 'kill_mode': wrong type",
        "\"readiness\": \"EXEC\"                    | 'readiness': \"EXEC\" is not one of",
        "\"readiness\": 1                           | 'readiness': wrong type",
        "\"restart\": \"sometimes\"                 | 'restart': \"sometimes\" is not one of no, on-failure, always",
        "\"rlimits\": []                            | 'rlimits': wrong type",
        "\"rlimits\": 1024                          | 'rlimits': wrong type",
        "\"success_exit_codes\": 0                  | 'success_exit_codes': wrong type",
        "\"success_exit_codes\": [\"0\"]            | 'success_exit_codes[0]': wrong type",
        "\"stop_signal\": []                        | 'stop_signal': wrong type",
        "\"name\": {}                               | 'name': wrong type",
    })
    void wrongTypeIsNamed(String keys, String expected) {
        rejects(web(keys.strip()), expected.strip());
    }

    @Test
    void readinessErrorListsTheChoices() {
        rejects(web("\"readiness\": \"systemd\""), "exec", "notify-fd", "sd-notify");
    }

    /** Jackson turns numbers and booleans into strings unless told not to; a spec must say what it means. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"name\": \"web\", \"command\": [\"/bin/true\"], \"user\": 0}             | 'user': wrong type",
        "{\"name\": true, \"command\": [\"/bin/true\"]}                              | 'name': wrong type",
        "{\"name\": \"web\", \"command\": [\"/bin/true\"], \"umask\": 22}            | 'umask': wrong type",
        "{\"name\": \"web\", \"command\": [\"/bin/sleep\", 10]}                       | 'command[1]': wrong type",
        "{\"name\": \"web\", \"command\": [\"/bin/true\"], \"env\": {\"PORT\": 8080}} | 'env.PORT': wrong type",
        "{\"name\": \"web\", \"command\": [\"/bin/true\"], \"env\": {\"DEBUG\": true}} | 'env.DEBUG': wrong type",
    })
    void scalarsAreNotCoercedToStrings(String text, String expected) {
        rejects(text.strip(), expected.strip());
    }

    /** A fraction where an integer belongs must not be silently truncated (3.5 becoming fd 3). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"notify_fd\": 3.5                   | 'notify_fd'",
        "\"restart_limit\": 2.7               | 'restart_limit'",
        "\"success_exit_codes\": [0, 1.5]     | 'success_exit_codes[1]'",
    })
    void fractionsAreNotTruncatedToIntegers(String keys, String expected) {
        rejects(web(keys.strip()), expected.strip());
    }

    @Test
    void integerOutOfRangeNamesTheKey() {
        rejects(web("\"notify_fd\": 99999999999"), "'notify_fd'");
    }

    // ---- malformed documents ----

    @ParameterizedTest
    @ValueSource(strings = {"{\"name\": \"web\",", "{name: \"web\"}", "{'name': 'web'}", "{\"name\": \"web\"}}",
            "{\"name\": \"web\" /* c */}", "{\"ready_timeout\": NaN}", "{\"name\": \"a\u0001b\"}"})
    void malformedJsonIsRejected(String text) {
        rejects(text, "malformed JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"name\": \"web\"} {\"name\": \"db\"}", "{\"name\": \"web\"} []", "{\"name\": \"web\"} 1"})
    void trailingTokensAreRejected(String text) {
        SpecException e = rejects(text);
        assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains("trailing"),
                () -> "the message should say what is wrong (content after the spec): " + e.getMessage());
        assertFalse(e.getMessage().contains("wrong type"), e::getMessage);
    }

    @Test
    void trailingGarbageIsRejected() {
        rejects("{\"name\": \"web\"} x", "malformed JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[{\"name\": \"web\"}]", "\"web\"", "42", "true"})
    void documentMustBeAnObject(String text) {
        rejects(text, "JSON object");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "\n"})
    void emptyDocumentIsRejected(String text) {
        rejects(text);
    }

    @Test
    void nullDocumentIsRejected() {
        // parse must never return null: every caller would fail later with a NullPointerException
        SpecException e = assertThrows(SpecException.class, () -> json.parse("null"));
        assertEquals(ExitCode.USAGE, e.code());
        assertTrue(e.getMessage().contains("JSON object"), e::getMessage);
    }

    // ---- files ----

    @Test
    void readParsesAFile(@TempDir Path tmp) throws IOException, SpecException {
        Path file = Files.writeString(tmp.resolve("web.json"), FULL);
        assertEquals(parses(FULL), json.read(file));
    }

    @Test
    void readNamesTheFileAndTheKey(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("web.json"), web("\"colour\": \"red\""));
        SpecException e = assertThrows(SpecException.class, () -> json.read(file));
        assertEquals(ExitCode.USAGE, e.code());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("unknown key 'colour'"),
                e::getMessage);
        assertEquals(e.getMessage().indexOf("invalid job spec"), e.getMessage().lastIndexOf("invalid job spec"),
                () -> "the kind once, not twice: " + e.getMessage());
    }

    @Test
    void unreadableFileIsNamed(@TempDir Path tmp) {
        Path missing = tmp.resolve("missing.json");
        SpecException e = assertThrows(SpecException.class, () -> json.read(missing));
        assertEquals(66, e.code().code(), e::getMessage);
        assertTrue(e.getMessage().contains(missing.toString()), e::getMessage);
        assertFalse(e.getMessage().startsWith("cannot run program"),
                () -> "a missing spec file is not a program that cannot run: " + e.getMessage());
    }
}
