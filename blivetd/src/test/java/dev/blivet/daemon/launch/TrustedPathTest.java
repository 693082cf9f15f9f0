package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import jnr.constants.platform.OpenFlags;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The rule, by openat2 and by the component walk alike: no symlink in any component. */
class TrustedPathTest {
    private static final NativeOs OS = new NativeOs();

    @TempDir
    Path tmp;

    static Stream<Arguments> variants() {
        return Stream.of(Arguments.of("openat2", TrustedPath.of(OS)), Arguments.of("walk", TrustedPath.walkOnly(OS)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void opensARealDirectoryCloseOnExec(String variant, TrustedPath paths) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("a/b/c"));
        int fd = paths.openDirectory(dir.toString());
        try {
            assertTrue(OS.posix().fstat(fd).isDirectory());
            assertEquals(Files.readSymbolicLink(TrustedPath.viaFd(fd)), dir);
            assertTrue(closeOnExec(fd), "fd " + fd + " is O_CLOEXEC");
        } finally {
            OS.close(fd);
        }
        int root = paths.openDirectory("/");
        OS.close(root);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void refusesASymlinkInAnyComponent(String variant, TrustedPath paths) throws Exception {
        Path real = Files.createDirectories(tmp.resolve("real/inner"));
        Files.writeString(real.resolve("file"), "x");
        Files.createSymbolicLink(tmp.resolve("link"), tmp.resolve("real"));
        Files.createSymbolicLink(real.resolve("last"), real);
        java.util.Map<Integer, Path> before = fdsOnThePathsOpened();

        for (String path : new String[] {tmp + "/link/inner", tmp + "/link", real + "/last"}) {
            TrustedPath.Refused refused = assertThrows(TrustedPath.Refused.class, () -> paths.openDirectory(path));
            assertEquals(LinuxLibC.ELOOP, refused.errno(), refused.getMessage());
            assertTrue(refused.getMessage().startsWith(path + ": ") && refused.getMessage().contains("symlink"),
                    refused.getMessage());
        }
        // Each variant really ran (kernels since 5.6 have openat2): only the walk can name the link.
        String named = assertThrows(TrustedPath.Refused.class, () -> paths.openDirectory(tmp + "/link/inner")).getMessage();
        assertEquals(variant.equals("walk"), named.contains(tmp + "/link is a symlink"), named);
        TrustedPath.Refused viaLink = assertThrows(TrustedPath.Refused.class,
                () -> paths.openFile(tmp + "/link/inner/file", OpenFlags.O_RDONLY.intValue()));
        assertEquals(LinuxLibC.ELOOP, viaLink.errno(), viaLink.getMessage());
        Files.createSymbolicLink(real.resolve("filelink"), real.resolve("file"));
        TrustedPath.Refused lastLink = assertThrows(TrustedPath.Refused.class,
                () -> paths.openFile(real + "/filelink", OpenFlags.O_RDONLY.intValue()));
        assertEquals(LinuxLibC.ELOOP, lastLink.errno(), lastLink.getMessage());

        int fd = paths.openFile(real + "/file", OpenFlags.O_RDONLY.intValue());
        assertTrue(closeOnExec(fd));
        OS.close(fd);
        assertEquals(before, fdsOnThePathsOpened(), "every refusal closed what it opened");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void namesWhatIsMissingOrNotADirectory(String variant, TrustedPath paths) throws Exception {
        Files.writeString(tmp.resolve("plain"), "x");
        TrustedPath.Refused missing = assertThrows(TrustedPath.Refused.class,
                () -> paths.openDirectory(tmp + "/absent/deeper"));
        assertTrue(missing.notFound(), missing.getMessage());
        assertTrue(missing.getMessage().startsWith(tmp + "/absent/deeper: "), missing.getMessage());
        TrustedPath.Refused notDir = assertThrows(TrustedPath.Refused.class, () -> paths.openDirectory(tmp + "/plain/x"));
        assertEquals(LinuxLibC.ENOTDIR, notDir.errno(), notDir.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void refusesPathsThatAreNotAbsoluteAndNormalized(String variant, TrustedPath paths) {
        for (String path : new String[] {"relative/dir", tmp + "/../etc", tmp + "/./x", tmp + "//x", tmp + "/", ""}) {
            TrustedPath.Refused refused = assertThrows(TrustedPath.Refused.class, () -> paths.openDirectory(path));
            assertTrue(refused.getMessage().contains("not an absolute, normalized path"), refused.getMessage());
        }
    }

    private static boolean closeOnExec(int fd) throws Exception {
        String fdinfo = Files.readString(Path.of("/proc/self/fdinfo/" + fd));
        String flags = fdinfo.lines().filter(l -> l.startsWith("flags:")).findFirst().orElseThrow().split("\\s+")[1];
        return (Integer.parseInt(flags, 8) & LinuxLibC.O_CLOEXEC) != 0;
    }

    /**
     * This JVM's fds open on what TrustedPath opens here (the test's directory, and / where a walk
     * starts), by number. Not the count of all fds: another test's thread may close one meanwhile.
     */
    private java.util.Map<Integer, Path> fdsOnThePathsOpened() throws java.io.IOException {
        Path root = tmp.toRealPath();
        java.util.Map<Integer, Path> open = new Proc(Proc.self()).fdTable();
        open.values().removeIf(target -> !target.startsWith(root) && !target.equals(Path.of("/")));
        return open;
    }
}
