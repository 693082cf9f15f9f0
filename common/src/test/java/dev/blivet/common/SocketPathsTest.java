package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The socket rule as code, and its wording in --help ({@link SocketPaths#RULE}) saying the same. */
class SocketPathsTest {
    @Test
    void theOptionWinsThenTheEnvironmentThenTheDefaultForTheUid() {
        Map<String, String> env = Map.of(SocketPaths.ENV, "/env.sock", "XDG_RUNTIME_DIR", "/run/user/1000");
        assertEquals("/opt.sock", SocketPaths.resolve("/opt.sock", env, 1000).toString());
        assertEquals("/env.sock", SocketPaths.resolve(null, env, 1000).toString());
        assertEquals(SocketPaths.ROOT_SOCKET, SocketPaths.resolve(null, Map.of("XDG_RUNTIME_DIR", "/r"), 0).toString());
        assertEquals("/run/user/1000/blivetd/blivetd.sock",
                SocketPaths.resolve(null, Map.of("XDG_RUNTIME_DIR", "/run/user/1000"), 1000).toString());
        assertEquals("/tmp/blivetd-1000/blivetd.sock", SocketPaths.resolve(null, Map.of(), 1000).toString());
        assertEquals("/tmp/blivetd-1000/blivetd.sock",
                SocketPaths.resolve(null, Map.of("XDG_RUNTIME_DIR", "relative"), 1000).toString());
    }

    @Test
    void theHelpTextNamesEveryPathTheRuleYields() {
        String rule = SocketPaths.RULE;
        assertTrue(rule.contains("--socket PATH"), rule);
        assertTrue(rule.contains("$" + SocketPaths.ENV), rule);
        assertTrue(rule.contains(SocketPaths.resolve(null, Map.of(), 0) + " as root"), rule);
        assertTrue(rule.contains(SocketPaths.resolve(null, Map.of("XDG_RUNTIME_DIR", "/xdg"), 1).toString()
                .replace("/xdg", "$XDG_RUNTIME_DIR")), rule);
        assertTrue(rule.contains(SocketPaths.resolve(null, Map.of(), 4242).toString().replace("4242", "UID")), rule);
    }
}
