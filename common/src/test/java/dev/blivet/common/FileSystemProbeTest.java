package dev.blivet.common;

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
        assertTrue(probe.isSymbolicLink(link));
        assertTrue(probe.isDirectory(link));
        assertFalse(probe.isSymbolicLink(dir));
        assertFalse(probe.exists(tmp.resolve("missing")));
    }

    @Test
    void sameFileThroughALinkedDirectoryOrAHardLink() throws IOException {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Path alias = Files.createSymbolicLink(tmp.resolve("alias"), real);
        assertTrue(probe.isSameFile(real.resolve("out.log"), alias.resolve("out.log")), "not created yet, same path");
        Path log = Files.writeString(real.resolve("a.log"), "");
        Path hard = Files.createLink(real.resolve("b.log"), log);
        assertTrue(probe.isSameFile(log, hard));
        assertFalse(probe.isSameFile(log, real.resolve("c.log")));
    }

    @Test
    void anotherIdentityExecutesByTheModeBitsOfItsClass() throws IOException {
        Path file = Files.writeString(tmp.resolve("tool"), "#!/bin/sh\n");
        int owner = (Integer) Files.getAttribute(file, "unix:uid");
        int group = (Integer) Files.getAttribute(file, "unix:gid");
        int stranger = owner == 4242 ? 4343 : 4242;
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx---r--"));
        assertTrue(probe.isExecutable(file, new Identity(owner, 4242, new int[] {4242})));
        assertFalse(probe.isExecutable(file, new Identity(stranger, group, new int[] {group})), "group has no x");
        assertFalse(probe.isExecutable(file, new Identity(stranger, 4242, new int[] {4242})), "others have no x");
        assertTrue(probe.isExecutable(file, new Identity(0, 0, new int[] {0})), "root: any x bit");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw----r-x"));
        assertTrue(probe.isExecutable(file, new Identity(stranger, 4242, new int[] {4242})), "through the other bits");
    }
}
