package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import jnr.posix.FileStat;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** removeIfOurs removes only the very file written, reached without a symlink. */
class PidfilesTest {
    private static final NativeOs OS = new NativeOs();
    private static final TestLibC LIBC = jnr.ffi.LibraryLoader.create(TestLibC.class)
            .load(jnr.ffi.Platform.getNativePlatform().getStandardCLibraryName());

    @TempDir
    Path tmp;

    static Stream<Arguments> variants() {
        return Stream.of(Arguments.of("openat2", TrustedPath.of(OS)), Arguments.of("walk", TrustedPath.walkOnly(OS)));
    }

    private static FileId idOf(Path file) {
        FileStat stat = OS.posix().lstat(file.toString());
        return new FileId(stat.dev(), stat.ino());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void removesTheFileItWroteAndNothingElse(String variant, TrustedPath paths) throws Exception {
        Path pidfile = tmp.resolve("job.pid");
        Files.writeString(pidfile, "4242\n");
        FileId written = idOf(pidfile);
        assertFalse(Pidfiles.removeIfOurs(paths, pidfile.toString(), written, 4243, true), "another pid");
        assertTrue(Files.exists(pidfile));
        assertTrue(Pidfiles.removeIfOurs(paths, pidfile.toString(), written, 4242, false));
        assertFalse(Files.exists(pidfile));

        Files.writeString(pidfile, "");
        FileId empty = idOf(pidfile);
        assertFalse(Pidfiles.removeIfOurs(paths, pidfile.toString(), empty, 4242, false), "empty, not ours");
        assertTrue(Pidfiles.removeIfOurs(paths, pidfile.toString(), empty, 4242, true), "empty from a failed start");
        assertFalse(Files.exists(pidfile));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void aSwappedNameIsLeftAlone(String variant, TrustedPath paths) throws Exception {
        Path pidfile = tmp.resolve("job.pid");
        Files.writeString(pidfile, "4242\n");
        FileId written = idOf(pidfile);
        // Same name, same content, another inode: someone else's file now.
        Path other = tmp.resolve("other");
        Files.writeString(other, "4242\n");
        Files.move(other, pidfile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertFalse(Pidfiles.removeIfOurs(paths, pidfile.toString(), written, 4242, true));
        assertTrue(Files.exists(pidfile));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void theVeryFileWrittenIsLeftAloneWhenItsDirectoryIsNowASymlink(String variant, TrustedPath paths) throws Exception {
        // The file's identity matches, and a path-based removal would go through the link:
        // reached only through a symlink, it is not removed.
        Path rootOnly = Files.createDirectories(tmp.resolve("r"));
        Path victim = rootOnly.resolve("job.pid");
        Files.writeString(victim, "4242\n");
        Path dir = Files.createDirectories(tmp.resolve("d"));
        Files.createSymbolicLink(dir.resolve("sub"), rootOnly);
        assertFalse(Pidfiles.removeIfOurs(paths, dir + "/sub/job.pid", idOf(victim), 4242, true));
        assertEquals("4242\n", Files.readString(victim));
        Files.createSymbolicLink(dir.resolve("job.pid"), victim);
        assertFalse(Pidfiles.removeIfOurs(paths, dir + "/job.pid", idOf(victim), 4242, true), "nor a last-component link");
        assertTrue(Files.exists(victim));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void aFifoOrADirectoryUnderTheNameNeitherStallsNorGoes(String variant, TrustedPath paths) throws Exception {
        Path fifo = tmp.resolve("fifo.pid");
        assertEquals(0, LIBC.mkfifo(fifo.toString(), 0600));
        assertFalse(Pidfiles.removeIfOurs(paths, fifo.toString(), idOf(fifo), 4242, true));
        assertTrue(Files.exists(fifo));
        Path dir = Files.createDirectories(tmp.resolve("dir.pid"));
        assertFalse(Pidfiles.removeIfOurs(paths, dir.toString(), idOf(dir), 4242, true));
        assertTrue(Files.isDirectory(dir));
    }
}
