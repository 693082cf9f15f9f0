package dev.blivet.daemon.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.Log;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exit records as the keeper writes them, and everything else a directory could hold. */
class KeeperExitsTest {
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final Log log = new Log(new PrintStream(logged, true), Log.parseLevel("debug"));

    private KeeperExits exits(Path dir) {
        return new KeeperExits(dir, listener -> { }, log);
    }

    @Test
    void readsTheKeepersRecordsOldestFirstAndForgetsConsumedOnes(@TempDir Path dir) throws IOException {
        write(dir, "300.999", "300 999 1792\n", 2);
        write(dir, "12.5", "12 5 9\n", 1);
        KeeperExits exits = exits(dir);
        assertEquals(List.of(new ExitRecord(12, 5, 9), new ExitRecord(300, 999, 1792)), exits.pending());
        exits.consumed(new ExitRecord(12, 5, 9));
        assertEquals(List.of(new ExitRecord(300, 999, 1792)), exits.pending());
        assertFalse(Files.exists(dir.resolve("12.5")));
    }

    @Test
    void eachRecordIsReadOnceThenForgottenWhenGone(@TempDir Path dir) throws IOException {
        write(dir, "12.5", "12 5 9\n", 1);
        KeeperExits exits = exits(dir);
        assertEquals(List.of(new ExitRecord(12, 5, 9)), exits.pending());
        // The keeper never rewrites a record in place, so a second look does not read it again.
        Files.writeString(dir.resolve("12.5"), "rewritten\n");
        assertEquals(List.of(new ExitRecord(12, 5, 9)), exits.pending());
        Files.delete(dir.resolve("12.5"));
        assertEquals(List.of(), exits.pending());
        write(dir, "12.5", "12 5 11\n", 2); // the name again once it was gone: read anew
        assertEquals(List.of(new ExitRecord(12, 5, 11)), exits.pending());
    }

    @Test
    void findReadsTheOneRecordNamedAndRemovesJunkUnderThatName(@TempDir Path dir) throws IOException {
        write(dir, "12.5", "12 5 9\n", 1);
        write(dir, "13.7", "13 7 garbage\n", 1);
        KeeperExits exits = exits(dir);
        assertEquals(java.util.Optional.of(new ExitRecord(12, 5, 9)), exits.find(12, 5));
        assertEquals(java.util.Optional.empty(), exits.find(12, 6), "another process with that pid");
        assertEquals(java.util.Optional.empty(), exits.find(13, 7));
        assertFalse(Files.exists(dir.resolve("13.7")), "junk is removed, never believed");
        exits.consumed(new ExitRecord(12, 5, 9));
        assertEquals(java.util.Optional.empty(), exits.find(12, 5));
    }

    @Test
    void junkIsRemovedAndNeverBelieved(@TempDir Path dir) throws IOException {
        List<String> junk = List.of(
                "notarecord",             // a name the keeper never writes
                "0.5", "-1.5", "012.5",   // pid 0, a sign, a leading zero
                "12.05",                  // a leading zero in the start time
                "99999999.5",             // above PID_MAX_LIMIT
                "13.5", "14.5", "15.5", "16.5", "17.5", "18.5", "19.5", "20.5", "21.5");
        write(dir, "notarecord", "1 2 3\n", 0);
        write(dir, "0.5", "0 5 0\n", 0);
        write(dir, "-1.5", "-1 5 0\n", 0);
        write(dir, "012.5", "012 5 0\n", 0);
        write(dir, "12.05", "12 05 0\n", 0);
        write(dir, "99999999.5", "99999999 5 0\n", 0);
        write(dir, "13.5", "13 6 0\n", 0);           // content names another process
        write(dir, "14.5", "14 5 0", 0);             // half a record: no newline
        write(dir, "15.5", "15 5 0 1\n", 0);         // a field too many
        write(dir, "16.5", "16 5 65536\n", 0);       // not a wait status
        write(dir, "17.5", "17 5 -9\n", 0);          // a sign
        write(dir, "18.5", "17 5 0\n\n", 0);         // two lines
        write(dir, "19.5", "19 5 0\n" + "x".repeat(100), 0); // longer than any record
        Files.createSymbolicLink(dir.resolve("20.5"), dir.resolve("13.5")); // a link is not a record
        Files.createDirectory(dir.resolve("21.5"));
        Path temporary = write(dir, ".22.5.tmp", "22 5", 0); // the keeper's, about to be renamed
        write(dir, "23.5", "23 5 0\n", 0);
        assertEquals(List.of(new ExitRecord(23, 5, 0)), exits(dir).pending());
        for (String name : junk) {
            assertFalse(Files.exists(dir.resolve(name), java.nio.file.LinkOption.NOFOLLOW_LINKS), name + " left behind");
        }
        assertTrue(Files.exists(temporary), "a record being written is left to the keeper");
        assertTrue(logged.toString().contains("not an exit record"), logged.toString());
    }

    @Test
    void parsesOnlyWhatTheKeeperWrites() {
        assertEquals(new ExitRecord(7, 123, 256), KeeperExits.parse("7 123 256\n", "7", "123"));
        assertNull(KeeperExits.parse(" 7 123 256\n", "7", "123"));
        assertNull(KeeperExits.parse("7  123 256\n", "7", "123"));
        assertNull(KeeperExits.parse("7 123 256\r\n", "7", "123"));
        assertNull(KeeperExits.parse("7 123 0x10\n", "7", "123"));
        assertNull(KeeperExits.parse("7 99999999999999999999 0\n", "7", "99999999999999999999"));
        assertNull(KeeperExits.parse("", "7", "123"));
    }

    @Test
    void keepsAtMostTheCapDroppingTheOldest(@TempDir Path dir) throws IOException {
        int total = KeeperExits.MAX_RECORDS + 3;
        for (int pid = 1; pid <= total; pid++) {
            write(dir, pid + ".1", pid + " 1 0\n", pid);
        }
        List<ExitRecord> pending = exits(dir).pending();
        assertEquals(KeeperExits.MAX_RECORDS, pending.size());
        assertEquals(4, pending.get(0).pid(), "the three oldest went");
        assertFalse(Files.exists(dir.resolve("1.1")));
        assertTrue(Files.exists(dir.resolve(total + ".1")));
        try (var left = Files.list(dir)) {
            assertEquals(KeeperExits.MAX_RECORDS, left.count());
        }
    }

    @Test
    void wakeUpsGoToTheLinksListeners(@TempDir Path dir) {
        List<Runnable> registered = new ArrayList<>();
        Runnable listener = () -> { };
        new KeeperExits(dir, registered::add, log).onNew(listener);
        assertEquals(List.of(listener), registered);
    }

    /** A file written {@code age} seconds after the epoch's first second, so order is by age. */
    private static Path write(Path dir, String name, String content, int age) throws IOException {
        Path file = Files.writeString(dir.resolve(name), content);
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_000_000L + age * 1000L));
        return file;
    }
}
