package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real {@link SystemProbe}: what JobSpecResolverTest's fakes stand in for. */
class FileSystemProbeTest {
    private final FileSystemProbe probe = new FileSystemProbe();

    @TempDir
    Path tmp;

    @Test
    void aSymbolicLinkIsSeenAsOneAndFollowedForItsType() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("dir"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), dir);
        assertTrue(probe.look(link).isSymbolicLink());
        assertTrue(probe.follow(link).isDirectory());
        assertTrue(probe.follow(link).isSameFileAs(probe.look(dir)));
        assertFalse(probe.look(dir).isSymbolicLink());
        assertFalse(probe.look(tmp.resolve("missing")).exists());
        assertFalse(probe.follow(Files.createSymbolicLink(tmp.resolve("dangling"), tmp.resolve("missing"))).exists());
    }

    @Test
    void aFileIsSeenWithItsOwnerLinksAndMode() throws IOException {
        Path file = Files.writeString(tmp.resolve("a.log"), "");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-x--x"));
        Files.createLink(tmp.resolve("b.log"), file);
        PathFacts facts = probe.look(file);
        assertTrue(facts.isRegularFile());
        assertEquals(0651, facts.permissions());
        assertEquals(2, facts.links());
        assertEquals((int) (Integer) Files.getAttribute(file, "unix:uid"), facts.uid());
        assertEquals((int) (Integer) Files.getAttribute(file, "unix:gid"), facts.gid());
        assertTrue(facts.isSameFileAs(probe.look(tmp.resolve("b.log"))), "hard links: one inode");
        assertFalse(facts.isSameFileAs(probe.look(tmp.resolve("c.log"))), "a missing file is no file");
    }

    @Test
    void executableIsAccessForBlivetdItself() throws IOException {
        Path file = Files.writeString(tmp.resolve("tool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertFalse(probe.isExecutable(file), "no x bit: not even root");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr--r--"));
        assertTrue(probe.isExecutable(file), "the owner's x bit, and root's any");
    }
}
