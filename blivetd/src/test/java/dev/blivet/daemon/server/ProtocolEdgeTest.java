package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.common.StrictJson;
import dev.blivet.common.protocol.Protocol;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.NobodyClient;
import dev.blivet.daemon.testing.Proc;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol edge as a hostile local user meets it, against a real blivetd with its production
 * heap (-Xmx256m): every connection blivetd allows sending its largest request at once, requests
 * past each limit, duplicate keys and trailing content, and what a non-root client can learn
 * about other users' jobs and about paths it cannot see.
 */
class ProtocolEdgeTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger UNIQUE = new AtomicInteger();

    @TempDir
    Path tmp;
    BlivetdProcess daemon;

    @BeforeEach
    void startDaemon() throws IOException {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: clients drop to nobody");
        daemon = BlivetdProcess.start(tmp);
    }

    @AfterEach
    void stopDaemon() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private int fds() {
        return new Proc(daemon.pid()).fds().size();
    }

    private int threads() {
        return Integer.parseInt(new Proc(daemon.pid()).status("Threads"));
    }

    private static List<String> uniqueSleep() {
        return List.of("/bin/sleep", Integer.toString(400_000 + UNIQUE.incrementAndGet() * 11
                + (int) (ProcessHandle.current().pid() % 991)));
    }

    private static String argv(List<String> argv) throws IOException {
        return JSON.writeValueAsString(argv);
    }

    /**
     * A ping of exactly {@link Protocol#MAX_LINE_BYTES} bytes, {@link Protocol#MAX_REQUEST_TOKENS}
     * tokens and {@link Protocol#MAX_REQUEST_DEPTH} levels: short strings in the deepest array, the
     * shape whose tree costs the most heap per byte (measured for docs/security.md).
     */
    static String worstCaseRequest() {
        int levels = Protocol.MAX_REQUEST_DEPTH - 2; // the request object and the array are the others
        String head = "{\"id\":1,\"op\":\"ping\",\"pad\":" + "{\"a\":".repeat(levels) + "[";
        String tail = "]" + "}".repeat(levels) + "}";
        int strings = Protocol.MAX_REQUEST_TOKENS - 6 - 3 * levels - 2 - 1;
        int room = Protocol.MAX_LINE_BYTES - head.length() - tail.length() - (strings - 1); // commas
        int each = room / strings;
        int longer = room % strings;
        StringBuilder line = new StringBuilder(Protocol.MAX_LINE_BYTES).append(head);
        for (int i = 0; i < strings; i++) {
            line.append(i == 0 ? "" : ",").append('"').append("x".repeat(each - 2 + (i < longer ? 1 : 0))).append('"');
        }
        return line.append(tail).toString();
    }

    @Test
    void theWorstCaseRequestIsExactlyAtEveryLimit() throws Exception {
        String line = worstCaseRequest();
        assertEquals(Protocol.MAX_LINE_BYTES, line.getBytes(StandardCharsets.UTF_8).length);
        StrictJson reader = new StrictJson(Protocol.REQUEST_LIMITS);
        reader.parse(line);
        String oneMoreToken = line.replaceFirst("\\[\"xx", "[1,\"");
        assertTrue(assertRefused(reader, oneMoreToken).contains("tokens"));
        String oneLevelMore = line.replaceFirst("\\[\"xxx", "[[],\"");
        assertTrue(assertRefused(reader, oneLevelMore).contains("nested"));
    }

    private static String assertRefused(StrictJson reader, String text) {
        try {
            reader.parse(text);
        } catch (StrictJson.LimitException e) {
            return e.getOriginalMessage();
        } catch (IOException e) {
            throw new AssertionError("refused for the wrong reason: " + e);
        }
        throw new AssertionError("not refused");
    }

    /** (a) Every allowed connection sends a largest request at once; blivetd lives and cleans up. */
    @Test
    void everyAllowedConnectionSendingItsLargestRequestAtOnce() throws Exception {
        int baselineFds = fds();
        int baselineThreads = threads();
        Path payload = Files.writeString(tmp.resolve("payload"), worstCaseRequest());
        Path script = Files.writeString(tmp.resolve("flood.py"), String.join("\n",
                "import socket, sys",
                "path, payload, n = sys.argv[1], open(sys.argv[2], 'rb').read(), int(sys.argv[3])",
                "conns = []",
                "for i in range(n):",
                "    s = socket.socket(socket.AF_UNIX); s.connect(path); conns.append(s)",
                "for s in conns: s.sendall(payload)",
                "extra = socket.socket(socket.AF_UNIX); extra.connect(path)",
                "print(extra.makefile('r').readline().strip(), flush=True)",
                "print('READY', flush=True)",
                "sys.stdin.readline()",
                "for s in conns: s.sendall(b'\\n')",
                "for s in conns: print(s.makefile('r').readline().strip(), flush=True)", ""));
        int perUser = Protocol.MAX_CONNECTIONS_PER_USER;
        Process nobody = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "/usr/bin/python3", script.toString(), daemon.socket().toString(), payload.toString(),
                Integer.toString(perUser)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Client> roots = new ArrayList<>();
        try (BufferedReader fromNobody = new BufferedReader(new InputStreamReader(nobody.getInputStream(),
                StandardCharsets.UTF_8)); OutputStream toNobody = nobody.getOutputStream()) {
            JsonNode refusedNobody = JSON.readTree(fromNobody.readLine());
            assertEquals("too_many_clients", refusedNobody.path("error").path("code").asText(), refusedNobody.toString());
            assertTrue(refusedNobody.path("error").path("message").asText().contains(Integer.toString(perUser)));
            assertEquals("READY", fromNobody.readLine());

            // root is not held to the per-user limit: it fills every other connection blivetd allows
            String line = Files.readString(payload);
            for (int i = perUser; i < Protocol.MAX_CONNECTIONS; i++) {
                Client root = daemon.client();
                roots.add(root);
                root.send(line);
            }
            try (Client extra = daemon.client()) {
                JsonNode refused = extra.read();
                assertEquals("too_many_clients", refused.path("error").path("code").asText(), refused.toString());
                assertTrue(refused.path("error").path("message").asText().contains(
                        Integer.toString(Protocol.MAX_CONNECTIONS)), refused.toString());
            }

            // now every one completes its largest request at once
            toNobody.write('\n');
            toNobody.flush();
            for (Client root : roots) {
                root.send("\n");
            }
            for (Client root : roots) {
                JsonNode reply = root.read();
                assertTrue(reply.path("ok").asBoolean() && reply.path("result").has("protocol"), reply.toString());
            }
            for (int i = 0; i < perUser; i++) {
                JsonNode reply = JSON.readTree(fromNobody.readLine());
                assertTrue(reply.path("ok").asBoolean() && reply.path("result").path("uid").asInt() == 65534,
                        reply.toString());
            }
            assertTrue(nobody.waitFor(60, TimeUnit.SECONDS));
        } finally {
            for (Client root : roots) {
                root.close();
            }
            nobody.destroyForcibly();
        }
        assertTrue(daemon.process().isAlive(), daemon::log);
        try (Client after = daemon.client()) {
            assertEquals(Protocol.VERSION, after.ok("ping", null).get("protocol").asInt());
        }
        assertFalse(daemon.log().contains("OutOfMemoryError"), daemon::log);
        Await.until(WAIT, () -> fds() <= baselineFds + 2, "blivetd's fds back to about " + baselineFds);
        Await.until(WAIT, () -> threads() <= baselineThreads + 2, "blivetd's threads back to about " + baselineThreads);
    }

    /** (b) Past each limit: refused with the limit named; only a too long line closes the connection. */
    @Test
    void requestsPastEachLimitAreRefusedNamingTheLimit() throws Exception {
        String worst = worstCaseRequest();
        try (Client client = daemon.client()) {
            JsonNode tokens = client.raw(worst.replaceFirst("\\[\"xx", "[1,\""));
            assertEquals("bad_request", tokens.path("error").path("code").asText(), tokens.toString());
            assertTrue(tokens.path("error").path("message").asText().contains(
                    "more than " + Protocol.MAX_REQUEST_TOKENS + " JSON tokens"), tokens.toString());

            int depth = Protocol.MAX_REQUEST_DEPTH;
            JsonNode deep = client.raw("{\"id\":2,\"op\":\"ping\",\"pad\":" + "[".repeat(depth) + "]".repeat(depth) + "}");
            assertEquals("bad_request", deep.path("error").path("code").asText(), deep.toString());
            assertTrue(deep.path("error").path("message").asText().contains("nested deeper than " + depth + " levels"),
                    deep.toString());

            JsonNode number = client.raw("{\"id\":3,\"op\":\"ping\",\"pad\":" + "9".repeat(Protocol.MAX_NUMBER_CHARS + 1)
                    + "}");
            assertEquals("bad_request", number.path("error").path("code").asText(), number.toString());
            assertTrue(number.path("error").path("message").asText().contains(
                    Integer.toString(Protocol.MAX_NUMBER_CHARS)), number.toString());

            assertEquals(Protocol.VERSION, client.ok("ping", null).get("protocol").asInt(), "the connection goes on");
        }
        try (Client client = daemon.client()) {
            JsonNode line = client.raw(worst + " ");
            assertEquals("line_too_long", line.path("error").path("code").asText(), line.toString());
            assertTrue(line.path("error").path("message").asText().contains(Integer.toString(Protocol.MAX_LINE_BYTES)),
                    line.toString());
            assertNull(client.read(), "closed after the refusal");
        }
        try (Client client = daemon.client()) {
            assertEquals(Protocol.VERSION, client.ok("ping", null).get("protocol").asInt());
        }
    }

    /** (d) Duplicate keys and trailing content: refused at the top, inline, and in the jobs directory. */
    @Test
    void duplicateKeysAndTrailingContentAreRefusedEverywhere() throws Exception {
        // a valid job file: if a smuggled reload ran, the job would appear
        Files.writeString(daemon.jobsDir().resolve("smuggled.json"), "{\"name\":\"smuggled\",\"command\":"
                + argv(uniqueSleep()) + "}");
        try (Client client = daemon.client()) {
            JsonNode dup = client.raw("{\"id\":1,\"op\":\"ping\",\"op\":\"reload\"}");
            assertEquals("bad_request", dup.path("error").path("code").asText(), dup.toString());
            assertTrue(dup.path("error").path("message").asText().contains("Duplicate field 'op'"), dup.toString());

            JsonNode trailing = client.raw("{\"id\":2,\"op\":\"ping\"} {\"id\":3,\"op\":\"reload\"}");
            assertEquals("bad_request", trailing.path("error").path("code").asText(), trailing.toString());
            assertTrue(trailing.path("error").path("message").asText().contains("trailing content"), trailing.toString());
            JsonNode next = client.call("ping");
            assertTrue(next.path("ok").asBoolean(), "one answer per line, nothing left over: " + next);
            assertEquals("not_found", client.call("status", "\"name\":\"smuggled\"").path("error").path("code").asText(),
                    "no reload ran");

            JsonNode inline = client.raw("{\"id\":4,\"op\":\"start\",\"spec\":{\"name\":\"dup\",\"command\":"
                    + argv(uniqueSleep()) + ",\"umask\":\"022\",\"umask\":\"077\"}}");
            assertEquals("bad_request", inline.path("error").path("code").asText(), inline.toString());
            assertTrue(inline.path("error").path("message").asText().contains("Duplicate field 'umask'"), inline.toString());
            assertEquals("not_found", client.call("status", "\"name\":\"dup\"").path("error").path("code").asText());

            Files.delete(daemon.jobsDir().resolve("smuggled.json"));
            Path dupFile = Files.writeString(daemon.jobsDir().resolve("dupfile.json"), "{\"name\":\"dupfile\",\"command\":"
                    + argv(uniqueSleep()) + ",\"user\":\"nobody\",\"user\":\"root\"}");
            Path trailingFile = Files.writeString(daemon.jobsDir().resolve("trailing.json"), "{\"name\":\"trailing\","
                    + "\"command\":" + argv(uniqueSleep()) + "} {\"name\":\"other\"}");
            JsonNode report = client.ok("reload", null);
            assertTrue(report.path("errors").path(dupFile.toString()).asText().contains("Duplicate field 'user'"),
                    report.toString());
            assertTrue(report.path("errors").path(trailingFile.toString()).asText().contains("trailing content"),
                    report.toString());
            assertEquals("[]", report.path("added").toString(), report.toString());
        }
    }

    /** A protocol client as nobody: its reply lines, one per request. */
    private List<JsonNode> asNobody(String... requests) throws Exception {
        return NobodyClient.send(tmp, daemon.socket(), requests);
    }

    /** The requests a client could probe a job name with. */
    private static List<String> probesOf(String name) {
        String n = "\"name\":\"" + name + "\"";
        return List.of(
                "{\"id\":1,\"op\":\"status\"," + n + "}",
                "{\"id\":2,\"op\":\"stop\"," + n + "}",
                "{\"id\":3,\"op\":\"logs\"," + n + "}",
                "{\"id\":4,\"op\":\"signal\"," + n + ",\"signal\":\"TERM\"}",
                "{\"id\":5,\"op\":\"remove\"," + n + "}",
                "{\"id\":6,\"op\":\"wait\"," + n + ",\"state\":\"running\",\"timeout\":1}",
                "{\"id\":7,\"op\":\"start\"," + n + "}",
                "{\"id\":8,\"op\":\"restart\"," + n + "}");
    }

    /** (c) Someone else's job and no job at all give a non-root client the same bytes. */
    @Test
    void anotherUsersJobLooksExactlyLikeNoJob() throws Exception {
        try (Client root = daemon.client()) {
            root.ok("start", "\"spec\":{\"name\":\"rootjob\",\"command\":" + argv(uniqueSleep()) + "}");
            List<JsonNode> someone = asNobody(probesOf("rootjob").toArray(String[]::new));
            List<JsonNode> noone = asNobody(probesOf("nojob12").toArray(String[]::new));
            for (int i = 0; i < someone.size(); i++) {
                assertEquals("not_found", someone.get(i).path("error").path("code").asText(), someone.get(i).toString());
                assertEquals(noone.get(i).toString().replace("nojob12", "NAME"),
                        someone.get(i).toString().replace("rootjob", "NAME"), "probe " + probesOf("x").get(i));
            }
            List<JsonNode> lists = asNobody("{\"id\":1,\"op\":\"list\"}", "{\"id\":2,\"op\":\"status\"}");
            for (JsonNode list : lists) {
                assertEquals("[]", list.path("result").path("jobs").toString(), list.toString());
            }
            // a spec under a name root's job holds: the name is taken (one name space), by whom is not said
            JsonNode taken = asNobody("{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"rootjob\",\"command\":"
                    + argv(uniqueSleep()) + "}}").get(0);
            assertEquals("conflict", taken.path("error").path("code").asText(), taken.toString());
            assertFalse(taken.toString().contains("uid") || taken.toString().contains("running"), taken.toString());
            assertEquals("running", root.ok("status", "\"name\":\"rootjob\"").get("state").asText(), "untouched");
            root.ok("stop", "\"name\":\"rootjob\"");
        }
    }

    /** (c) A non-root client's event stream never shows another user's job. */
    @Test
    void eventsShowANonRootClientOnlyItsOwnJobs() throws Exception {
        Path script = Files.writeString(tmp.resolve("events.py"), String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rw')",
                "f.write('{\"id\":1,\"op\":\"events\"}\\n'); f.flush()",
                "print(f.readline().strip(), flush=True)",
                "while True:",
                "    line = f.readline()",
                "    if not line: break",
                "    print(line.strip(), flush=True)",
                "    if sys.argv[2] in line: break", ""));
        Process events = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "/usr/bin/python3", script.toString(), daemon.socket().toString(), "nobodymarker")
                .redirectErrorStream(true).start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(events.getInputStream(), StandardCharsets.UTF_8));
                Client root = daemon.client()) {
            assertTrue(lines.readLine().contains("\"subscribed\":true"));
            root.ok("start", "\"spec\":{\"name\":\"rootsecret\",\"command\":" + argv(uniqueSleep()) + "}");
            root.ok("stop", "\"name\":\"rootsecret\"");
            // nobody's own job comes later through the same loop: once it shows, root's would have
            JsonNode mine = asNobody("{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"nobodymarker\",\"command\":"
                    + argv(uniqueSleep()) + "}}").get(0);
            assertTrue(mine.path("ok").asBoolean(), mine.toString());
            List<String> seen = new ArrayList<>();
            String line;
            while ((line = lines.readLine()) != null) {
                seen.add(line);
            }
            assertTrue(events.waitFor(60, TimeUnit.SECONDS));
            assertTrue(seen.stream().anyMatch(l -> l.contains("nobodymarker")), seen.toString());
            assertTrue(seen.stream().noneMatch(l -> l.contains("rootsecret")), seen.toString());
            root.ok("stop", "\"name\":\"nobodymarker\"");
        } finally {
            events.destroyForcibly();
        }
    }

    /** (c) Whether a path inside a 0700 root directory exists does not show in the answer. */
    @Test
    void pathsInARootOnlyDirectoryAnswerAlikeWhetherTheyExistOrNot() throws Exception {
        Path secret = Files.createDirectories(tmp.resolve("secret"));
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------"));
        Files.createDirectory(secret.resolve("sub"));
        Files.writeString(secret.resolve("out.log"), "root's\n");
        String[][] pairs = {
                {"chdir", secret.resolve("sub").toString(), secret.resolve("nil").toString()},
                {"stdout", secret.resolve("out.log").toString(), secret.resolve("nil.log").toString()},
                {"pidfile", secret.resolve("out.log").toString(), secret.resolve("nil.log").toString()},
                {"stdout", secret.resolve("sub").toString(), secret.resolve("nil.log").toString()},
                {"chdir", secret.resolve("out.log").toString(), secret.resolve("nil").toString()}};
        for (String[] pair : pairs) {
            List<String> sleep = uniqueSleep();
            JsonNode existing = asNobody("{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"probe\",\"command\":" + argv(sleep)
                    + ",\"" + pair[0] + "\":\"" + pair[1] + "\"}}").get(0);
            JsonNode missing = asNobody("{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"probe\",\"command\":" + argv(sleep)
                    + ",\"" + pair[0] + "\":\"" + pair[2] + "\"}}").get(0);
            assertFalse(existing.path("ok").asBoolean(), existing.toString());
            assertEquals(missing.toString().replace(pair[2], "PATH"), existing.toString().replace(pair[1], "PATH"),
                    pair[0] + ": " + pair[1] + " vs " + pair[2]);
        }
        assertEquals("root's\n", Files.readString(secret.resolve("out.log")), "root's file untouched");
    }
}
