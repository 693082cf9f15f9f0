package dev.blivet.daemon;

import java.nio.file.Path;
import java.util.Map;

/** Default directories: system ones for root, XDG ones for anyone else. */
final class DaemonPaths {
    private DaemonPaths() {
    }

    static Path jobsDir(int uid, Map<String, String> env) {
        return uid == 0 ? Path.of("/etc/blivetd/jobs.d") : xdg(env, "XDG_CONFIG_HOME", ".config").resolve("blivetd/jobs.d");
    }

    static Path stateDir(int uid, Map<String, String> env) {
        return uid == 0 ? Path.of("/var/lib/blivetd") : xdg(env, "XDG_STATE_HOME", ".local/state").resolve("blivetd");
    }

    private static Path xdg(Map<String, String> env, String variable, String underHome) {
        String value = env.get(variable);
        if (value != null && value.startsWith("/")) {
            return Path.of(value);
        }
        return Path.of(env.getOrDefault("HOME", "/"), underHome);
    }
}
