package dev.blivet.daemon.server;

import dev.blivet.daemon.Log;
import dev.blivet.daemon.keeper.SocketFacts;
import dev.blivet.daemon.launch.LinuxLibC;
import dev.blivet.daemon.launch.NativeOs;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A listening control socket handed over as systemd hands sockets (sd_listen_fds(3)): fd 3, with
 * LISTEN_FDS=1 and LISTEN_PID naming us. The keeper hands each JVM the socket the way systemd
 * does, so clients wait in the backlog while a JVM restarts instead of failing to connect.
 */
public final class InheritedSocket {
    /** The variables of the hand-over: removed once read, so no job inherits them. */
    public static final List<String> VARIABLES = List.of("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES");
    static final int FIRST_FD = 3; // SD_LISTEN_FDS_START

    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;

    private InheritedSocket() {
    }

    /**
     * fd 3 when the environment hands it to us and the kernel confirms it is a listening Unix
     * stream socket; empty when nothing is handed to us (or to another pid: a variable our parent
     * left in its environment is not ours).
     *
     * @throws IOException when a socket is handed to us that is not one blivetd can serve on
     */
    public static OptionalInt take(NativeOs os, Map<String, String> env, Log log) throws IOException {
        String fds = env.get("LISTEN_FDS");
        String pid = env.get("LISTEN_PID");
        if (fds == null) {
            return OptionalInt.empty();
        }
        VARIABLES.forEach(os.posix()::unsetenv);
        long self = ProcessHandle.current().pid();
        if (pid == null || !pid.equals(Long.toString(self))) {
            log.warn("LISTEN_FDS ignored: LISTEN_PID is " + pid + ", not our pid " + self);
            return OptionalInt.empty();
        }
        int count;
        try {
            count = Integer.parseInt(fds);
        } catch (NumberFormatException e) {
            throw new IOException("LISTEN_FDS=" + fds + " is not a number");
        }
        if (count < 1) {
            return OptionalInt.empty();
        }
        if (count > 1) {
            log.warn("LISTEN_FDS=" + count + ": blivetd listens on one socket, fd " + FIRST_FD + "; the others are ignored");
        }
        SocketFacts facts = new SocketFacts(os);
        if (!facts.isUnix(FIRST_FD, LinuxLibC.SOCK_STREAM) || !facts.isListening(FIRST_FD)) {
            throw new IOException("fd " + FIRST_FD + " from LISTEN_FDS is not a listening Unix stream socket");
        }
        os.libc().fcntl(FIRST_FD, F_SETFD, FD_CLOEXEC);
        return OptionalInt.of(FIRST_FD);
    }
}
