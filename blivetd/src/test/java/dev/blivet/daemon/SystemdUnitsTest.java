package dev.blivet.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.common.SocketPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * systemd/blivetd.service and blivetd.socket: valid for systemd (systemd-analyze verify) and saying
 * the same as blivetd's code where both name a path or a mode.
 */
class SystemdUnitsTest {
    private static final Path UNITS = Path.of("..", "systemd");
    private static final Path SERVICE = UNITS.resolve("blivetd.service");
    private static final Path SOCKET = UNITS.resolve("blivetd.socket");
    private static final String DAEMON = "/usr/sbin/blivetd";
    private static final String CTL = "/usr/bin/blivetctl";

    @TempDir
    Path dir;

    /** The values of {@code key} in the unit file, in order (comments and other sections skipped). */
    private static List<String> values(Path unit, String key) throws IOException {
        List<String> found = new ArrayList<>();
        for (String line : Files.readAllLines(unit)) {
            if (line.startsWith(key + "=")) {
                found.add(line.substring(key.length() + 1));
            }
        }
        return found;
    }

    private static String value(Path unit, String key) throws IOException {
        List<String> all = values(unit, key);
        assertEquals(1, all.size(), unit + ": " + key + "= " + all);
        return all.get(0);
    }

    /** The argument after {@code option} on the service's command line. */
    private static String option(String command, String option) {
        List<String> words = List.of(command.split(" +"));
        int at = words.indexOf(option);
        assertTrue(at > 0 && at + 1 < words.size(), option + " in " + command);
        return words.get(at + 1);
    }

    @Test
    void theSocketUnitListensWhereBlivetdAndBlivetctlLookAsRoot() throws IOException {
        Path socket = Path.of(value(SOCKET, "ListenStream"));
        assertEquals(SocketPaths.resolve(null, Map.of(), 0), socket);
        assertEquals("0666", value(SOCKET, "SocketMode"), "every local user may connect");
        // blivetd refuses a socket directory others may write (RuntimeDirectory): 0755, root's.
        assertEquals("0755", value(SOCKET, "DirectoryMode"));
        assertEquals("0755", value(SERVICE, "RuntimeDirectoryMode"));
        assertEquals(Path.of("/run", value(SERVICE, "RuntimeDirectory")), socket.getParent());
        assertEquals("yes", value(SERVICE, "RuntimeDirectoryPreserve"), "a restart must keep the runtime records");

        String start = value(SERVICE, "ExecStart");
        assertFalse(start.contains("--socket"), "blivetd's own default is the socket unit's path: " + start);
        assertEquals(DaemonPaths.stateDir(0, Map.of()), Path.of(option(start, "--state-dir")));
        assertEquals(DaemonPaths.stateDir(0, Map.of()), Path.of("/var/lib", value(SERVICE, "StateDirectory")));
        assertEquals(DaemonPaths.jobsDir(0, Map.of()), Path.of(option(start, "--jobs-dir")));
        assertTrue(start.startsWith(DAEMON + " "), start);
        assertTrue(value(SERVICE, "ExecReload").startsWith(CTL + " reload"));

        assertEquals("notify", value(SERVICE, "Type"));
        assertEquals("process", value(SERVICE, "KillMode"), "a crash of blivetd must not kill a job");
        assertEquals("continue", value(SERVICE, "OOMPolicy"), "one job's OOM kill must not stop every job");
        assertEquals(List.of("blivetd.socket"), values(SERVICE, "Requires"));
        assertTrue(value(SERVICE, "After").contains("blivetd.socket"));
        for (String sandbox : List.of("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp",
                "ProtectControlGroups", "MemoryDenyWriteExecute")) {
            assertEquals(List.of(), values(SERVICE, sandbox), sandbox + " would be inherited by every job");
        }
    }

    @Test
    void systemdAnalyzeVerifiesBothUnits() throws Exception {
        // verify needs the commands to exist: the same units, with stand-ins at those paths.
        Path daemon = executable("blivetd");
        Path ctl = executable("blivetctl");
        Path service = dir.resolve("blivetd.service");
        Files.writeString(service, Files.readString(SERVICE).replace(DAEMON, daemon.toString())
                .replace(CTL, ctl.toString()));
        Files.copy(SOCKET, dir.resolve("blivetd.socket"));
        String clean = verify(dir.resolve("blivetd.socket"), service);
        assertEquals("exit 0\n", clean, "systemd-analyze verify");

        // The check can fail: a misspelt key is reported (verify still exits 0 for it).
        Path typo = Files.createDirectories(dir.resolve("typo"));
        Files.writeString(typo.resolve("blivetd.service"), Files.readString(service)
                .replace("KillMode=process", "KilMode=process"));
        Files.copy(SOCKET, typo.resolve("blivetd.socket"));
        assertNotEquals("exit 0\n", verify(typo.resolve("blivetd.socket"), typo.resolve("blivetd.service")));
    }

    private Path executable(String name) throws IOException {
        Path file = dir.resolve(name + "-stand-in");
        Files.writeString(file, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** systemd-analyze verify's exit code and everything it printed. */
    private static String verify(Path... units) throws Exception {
        List<String> command = new ArrayList<>(List.of("systemd-analyze", "verify", "--man=no"));
        for (Path unit : units) {
            command.add(unit.toString());
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(2, TimeUnit.MINUTES), "systemd-analyze verify hangs");
        return "exit " + process.exitValue() + "\n" + output;
    }
}
