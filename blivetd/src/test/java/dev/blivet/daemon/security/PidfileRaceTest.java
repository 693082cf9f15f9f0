package dev.blivet.daemon.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Proc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, attack 1: while short jobs with a pidfile under a directory of theirs come and go, a
 * user swaps that directory with a symlink to a root-only directory (renameat2 RENAME_EXCHANGE
 * in a loop), hoping that root's removal after the job's exit goes through the link and deletes
 * root's file of the same name. It must survive every time.
 */
class PidfileRaceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Bounds of the race: whichever comes first. */
    private static final int STARTS = 150;
    private static final int SECONDS = 8;

    @TempDir
    Path tmp;

    /** Exchanges argv[1] and argv[2] until argv[3] exists or argv[4] seconds passed; ends as it began. */
    private static final String SWAPPER = String.join("\n",
            "import ctypes, os, sys, time",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "a, b, stop = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3]",
            "deadline = time.monotonic() + float(sys.argv[4])",
            "def swap():",
            "    if libc.renameat2(-100, a, -100, b, 2) != 0:",  // AT_FDCWD, RENAME_EXCHANGE
            "        sys.exit('renameat2: ' + os.strerror(ctypes.get_errno()))",
            "print('swapping', flush=True)",
            "n = 0",
            "while not os.path.exists(stop) and time.monotonic() < deadline:",
            "    swap(); swap(); n += 2",
            "print(n, flush=True)", "");

    /** Starts argv[3] short jobs as its caller, each waited for; prints one line per start and wait. */
    private static final String STARTER = String.join("\n",
            "import json, socket, sys, time",
            "s = socket.socket(socket.AF_UNIX)",
            "s.connect(sys.argv[1])",
            "f = s.makefile('rw')",
            "pidfile, count, deadline = sys.argv[2], int(sys.argv[3]), time.monotonic() + float(sys.argv[4])",
            "def call(req):",
            "    f.write(json.dumps(req) + '\\n'); f.flush(); return f.readline().strip()",
            "for i in range(count):",
            "    if time.monotonic() > deadline: break",
            "    name = 'race%d' % i",
            "    r = call({'id': i, 'op': 'start', 'spec': {'name': name, 'pidfile': pidfile, 'command': ['/bin/true']}})",
            "    print(r, flush=True)",
            "    if json.loads(r)['ok']:",
            "        print(call({'id': i, 'op': 'wait', 'name': name, 'state': ['exited', 'failed'], 'timeout': 20}), flush=True)",
            "");

    @Test
    void rootNeverRemovesAFileThroughASwappedDirectory() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: the attacker is nobody");
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp)) {
            int baselineFds = new Proc(daemon.pid()).fds().size();
            Path d = Files.createDirectories(tmp.resolve("d"));
            Path sub = Files.createDirectories(d.resolve("sub"));
            Files.setAttribute(d, "unix:uid", AsNobody.UID);
            Files.setAttribute(sub, "unix:uid", AsNobody.UID);
            Path rootOnly = Files.createDirectories(tmp.resolve("r"));
            Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rwx------"));
            Path victim = rootOnly.resolve("job.pid");
            Files.writeString(victim, "root's\n");
            Files.createSymbolicLink(d.resolve("link"), rootOnly);
            Path stop = tmp.resolve("stop-swapping");

            Process swapper = AsNobody.python(tmp.resolve("swapper.py"), SWAPPER, sub.toString(), d.resolve("link").toString(),
                    stop.toString(), Integer.toString(SECONDS + 30));
            String swapperOutput;
            String starterOutput;
            try {
                assertEquals("swapping\n", new String(swapper.getInputStream().readNBytes(9), StandardCharsets.UTF_8));
                Process starter = AsNobody.python(tmp.resolve("starter.py"), STARTER, daemon.socket().toString(),
                        sub.resolve("job.pid").toString(), Integer.toString(STARTS), Integer.toString(SECONDS));
                starterOutput = new String(starter.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(starter.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, starter.exitValue(), starterOutput);
            } finally {
                Files.writeString(stop, "");
                swapperOutput = new String(swapper.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(swapper.waitFor(60, TimeUnit.SECONDS));
            }
            assertEquals(0, swapper.exitValue(), swapperOutput);
            long started = starterOutput.lines().filter(line -> line.contains("\"pid\"")).count();
            long exchanges = Long.parseLong(swapperOutput.trim());
            assertTrue(started > 0 && exchanges > 0, "the race ran: " + started + " starts, " + exchanges + " swaps\n"
                    + starterOutput);

            assertTrue(Files.isRegularFile(victim),
                    "root's file in a 0700 directory must survive " + started + " starts and " + exchanges + " swaps");
            assertEquals("root's\n", Files.readString(victim));
            assertEquals(0, (int) Files.getAttribute(victim, "unix:uid"));
            assertFalse(Files.isSymbolicLink(sub), "the swapper ends as it began");

            // The benign case, same daemon, same directory: the pidfile goes when the job ends.
            Path benign = sub.resolve("benign.pid");
            Process once = AsNobody.python(tmp.resolve("client.py"), AsNobody.CLIENT, daemon.socket().toString(),
                    "{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"benign\",\"pidfile\":\"" + benign
                            + "\",\"command\":[\"/bin/true\"]}}",
                    "{\"id\":2,\"op\":\"wait\",\"name\":\"benign\",\"state\":[\"exited\",\"failed\"],\"timeout\":20}");
            String replies = new String(once.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(once.waitFor(30, TimeUnit.SECONDS));
            JsonNode waited = JSON.readTree(replies.lines().reduce((first, second) -> second).orElseThrow());
            assertEquals("exited", waited.get("result").get("state").asText(), replies);
            assertFalse(Files.exists(benign), "the pidfile of a job that exited is removed");

            try (var client = daemon.client()) {
                assertTrue(client.ok("ping", null).has("version"));
            }
            dev.blivet.daemon.testing.Await.until(java.time.Duration.ofSeconds(30),
                    () -> new Proc(daemon.pid()).fds().size() <= baselineFds + 2, "blivetd's fds back to about "
                            + baselineFds);
        }
    }
}
