package dev.blivet.daemon.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** cgroup names, and finding the cgroup2 mount and our own cgroup, without touching the system. */
class CgroupNamesTest {
    @Test
    void aJobsCgroupIsOneComponentThatNoInterfaceFileCanBe() {
        assertEquals("job-web", CgroupNames.job("web"));
        assertEquals("job-cgroup.procs", CgroupNames.job("cgroup.procs"));
        assertEquals("job-a..b", CgroupNames.job("a..b"));
        for (String hostile : List.of("..", ".", "../x", "a/b", "/x", ".hidden", "", "x\n", "é", "a".repeat(65))) {
            assertThrows(IllegalArgumentException.class, () -> CgroupNames.job(hostile), hostile);
        }
        assertTrue(CgroupNames.isJob("job-web"));
        assertFalse(CgroupNames.isJob("supervisor"));
        assertFalse(CgroupNames.isJob("job-"));
        assertFalse(CgroupNames.isJob("cgroup.procs"));
    }

    @Test
    void blivetdsCgroupDependsOnItsSocketOnly() {
        String a = CgroupNames.instance(Path.of("/run/blivetd/blivetd.sock"));
        assertTrue(a.matches("blivetd-[0-9a-f]{16}"), a);
        assertEquals(a, CgroupNames.instance(Path.of("/run/blivetd/../blivetd/blivetd.sock")));
        assertNotEquals(a, CgroupNames.instance(Path.of("/run/user/1000/blivetd/blivetd.sock")));
    }

    @Test
    void theCgroup2MountIsFoundBesideV1Controllers() {
        String hybrid = String.join("\n",
                "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
                "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
                "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
                "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw");
        assertEquals(new CgroupSetup.Mount(Path.of("/sys/fs/cgroup/unified"), "/"),
                CgroupSetup.cgroup2Mount(hybrid, "/system.slice/blivetd.service"));
        String unified = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate";
        assertEquals(new CgroupSetup.Mount(Path.of("/sys/fs/cgroup"), "/"), CgroupSetup.cgroup2Mount(unified, "/"));
        String spaced = "30 23 0:26 /sub /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw";
        assertEquals(new CgroupSetup.Mount(Path.of("/mnt/my cgroups"), "/sub"), CgroupSetup.cgroup2Mount(spaced, "/sub/x"));
        assertNull(CgroupSetup.cgroup2Mount(spaced, "/other"), "a mount of another subtree does not hold it");
        assertNull(CgroupSetup.cgroup2Mount("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu", "/"));
    }

    @Test
    void ourCgroupIsTheV2Line() {
        assertEquals("/", CgroupSetup.ownCgroup("9:name=systemd:/\n4:memory:/x\n0::/\n"));
        assertEquals("/user.slice/a b", CgroupSetup.ownCgroup("0::/user.slice/a b\n"));
        assertNull(CgroupSetup.ownCgroup("4:memory:/x\n"), "v1 only");
    }
}
