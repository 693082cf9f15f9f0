package dev.blivet.daemon.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.blivet.common.protocol.Protocol;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users other than root, each at its own connection limit, together fill every connection they
 * may have: root must still get in (to stop what they run), and one more user must not.
 */
class RootReserveTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Opens N connections as whoever runs it, pings on each, says "held", and keeps them until stdin closes. */
    private static final String HOLDER = String.join("\n",
            "import socket, sys",
            "held = []",
            "for _ in range(int(sys.argv[2])):",
            "    s = socket.socket(socket.AF_UNIX)",
            "    s.connect(sys.argv[1])",
            "    s.settimeout(30)  # an admitted listener hears nothing: say so rather than hang",
            "    f = s.makefile('rw')",
            "    if len(sys.argv) < 4:  # else only listen: a refused client is told why at once",
            "        f.write('{\"op\":\"ping\"}\\n'); f.flush()",
            "    try:",
            "        reply = f.readline()",
            "    except socket.timeout:",
            "        reply = 'admitted, not refused'",
            "    if '\"ok\":true' not in reply:",
            "        print('refused ' + reply.strip(), flush=True); sys.exit(1)",
            "    held.append((s, f))",
            "print('held', flush=True)",
            "sys.stdin.read()",
            "");

    @TempDir
    Path tmp;

    @Test
    void usersFillingEveryConnectionTheyMayHaveStillLeaveRootIn() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: the holders drop to other uids");
        Path script = tmp.resolve("holder.py");
        Files.writeString(script, HOLDER);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        int perUser = Protocol.MAX_CONNECTIONS_PER_USER;
        int users = (Protocol.MAX_CONNECTIONS - Protocol.CONNECTIONS_RESERVED_FOR_ROOT) / perUser;
        List<Process> holders = new ArrayList<>();
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp)) {
            try {
                for (int i = 0; i < users; i++) {
                    Process holder = holder(script, daemon.socket(), 61000 + i, perUser);
                    holders.add(holder);
                    String line = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
                            .readLine();
                    assertEquals("held", line, "uid " + (61000 + i) + " could not hold its connections");
                }
                Process extra = holder(script, daemon.socket(), 61000 + users, 1, "listen");
                holders.add(extra);
                String refused = new BufferedReader(new InputStreamReader(extra.getInputStream(), StandardCharsets.UTF_8))
                        .readLine();
                assertTrue(refused != null && refused.contains("too_many_clients")
                        && refused.contains("users other than root"), String.valueOf(refused));

                try (Client root = daemon.client()) {
                    assertEquals(1, root.ok("ping", null).get("protocol").asInt(), "root must still get in");
                }
            } finally {
                for (Process holder : holders) {
                    holder.getOutputStream().close();
                    holder.destroy();
                }
                for (Process holder : holders) {
                    Await.until(WAIT, () -> !holder.isAlive(), "holder to exit");
                }
            }
        }
    }

    private static Process holder(Path script, Path socket, int uid, int connections, String... mode) throws Exception {
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                "/usr/bin/python3", script.toString(), socket.toString(), Integer.toString(connections)));
        command.addAll(List.of(mode));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }
}
