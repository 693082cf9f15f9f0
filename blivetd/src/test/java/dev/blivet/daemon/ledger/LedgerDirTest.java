package dev.blivet.daemon.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.JobSpecJson;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.proc.ProcStat;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger's directories and records against a hostile local user (docs/security.md, "The
 * ledger's directories"): what root would read or write there if a directory or record were
 * someone else's, a symlink, a hardlink, or too big.
 */
class LedgerDirTest {
    private static final LedgerOs OS = new LedgerOs(new NativeOs());
    private static final int NOBODY = 65534;
    private static final Log LOG = new Log(new PrintStream(java.io.OutputStream.nullOutputStream()), Log.Level.ERROR);

    @TempDir
    Path tmp;

    private JobLedger open() throws IOException {
        return JobLedger.open(OS, tmp.resolve("state"), tmp.resolve("run"), CrashPoints.none(), LOG);
    }

    private JobLedger withOneJob() throws Exception {
        Files.createDirectories(tmp.resolve("run"));
        JobLedger ledger = open();
        ledger.accepted("job", 0, "client", new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
        return ledger;
    }

    @Test
    void missingDirectoriesAreMadeForBlivetdAlone() throws Exception {
        Files.createDirectories(tmp.resolve("run"));
        try (JobLedger ledger = open()) {
            for (String dir : List.of("state", "state/specs", "run/ledger")) {
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve(dir))), dir);
            }
            assertTrue(ledger.load().specs().isEmpty());
        }
    }

    @Test
    void aSymlinkedStateDirectoryIsRefused() throws Exception {
        Files.createDirectories(tmp.resolve("elsewhere"));
        Files.createSymbolicLink(tmp.resolve("state"), tmp.resolve("elsewhere"));
        IOException e = assertThrows(IOException.class, this::open);
        assertTrue(e.getMessage().contains("symlink"), e.getMessage());
    }

    @Test
    void aStateDirectoryOfAnotherUserIsRefused() throws Exception {
        Path state = Files.createDirectories(tmp.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
        Files.setAttribute(state, "unix:uid", NOBODY);
        IOException e = assertThrows(IOException.class, this::open);
        assertTrue(e.getMessage().contains("belongs to uid " + NOBODY), e.getMessage());
    }

    @Test
    void aStateDirectoryOthersMayWriteIsRefused() throws Exception {
        Path state = Files.createDirectories(tmp.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxrwx---"));
        IOException e = assertThrows(IOException.class, this::open);
        assertTrue(e.getMessage().contains("group or others may write it (mode 770"), e.getMessage());
    }

    @Test
    void aRuntimeLedgerDirectoryOfAnotherUserIsRefused() throws Exception {
        Path ledger = Files.createDirectories(tmp.resolve("run/ledger"));
        Files.setPosixFilePermissions(ledger, PosixFilePermissions.fromString("rwx------"));
        Files.setAttribute(ledger, "unix:uid", NOBODY);
        IOException e = assertThrows(IOException.class, this::open);
        assertTrue(e.getMessage().contains(ledger.toString()), e.getMessage());
    }

    @Test
    void plantedRecordsAreRefusedByName() throws Exception {
        try (JobLedger ledger = withOneJob()) {
            Path specs = tmp.resolve("state/specs");
            Path outside = Files.writeString(tmp.resolve("outside.json"), Files.readString(specs.resolve("job.json"))
                    .replace("\"job\"", "\"linked\""));
            Files.createSymbolicLink(specs.resolve("linked.json"), outside);
            Files.createLink(specs.resolve("hard.json"), outside);
            Path foreign = Files.writeString(specs.resolve("foreign.json"), Files.readString(specs.resolve("job.json"))
                    .replace("\"job\"", "\"foreign\""));
            Files.setAttribute(foreign, "unix:uid", NOBODY);
            Files.writeString(specs.resolve("README"), "not a record");

            JobLedger.Contents contents = ledger.load();
            assertEquals(List.of("job"), contents.specs().stream().map(SpecRecord::name).toList());
            assertTrue(contents.refused().get("linked").contains("symlink"), contents.refused().toString());
            assertTrue(contents.refused().get("hard").contains("2 links"), contents.refused().toString());
            assertTrue(contents.refused().get("foreign").contains("belongs to uid " + NOBODY), contents.refused().toString());
            assertTrue(contents.warnings().toString().contains("README"), contents.warnings().toString());
            String before = Files.readString(outside);
            ledger.removed("linked");
            ledger.removed("hard");
            assertEquals(before, Files.readString(outside), "removal unlinks the planted names, never their target");
            assertTrue(Files.notExists(specs.resolve("linked.json"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void anOversizedOrMalformedRecordIsRefusedByName() throws Exception {
        try (JobLedger ledger = withOneJob()) {
            Path specs = tmp.resolve("state/specs");
            Files.writeString(specs.resolve("big.json"), " ".repeat(RecordCodec.MAX_RECORD_BYTES) + "{}");
            Files.writeString(specs.resolve("bad.json"), "{\"version\":1,\"name\":\"bad\",\"owner\":0,");
            Files.writeString(specs.resolve("other.json"), Files.readString(specs.resolve("job.json")));
            JobLedger.Contents contents = ledger.load();
            assertTrue(contents.refused().get("big").contains("more than a record may hold"), contents.refused().toString());
            assertTrue(contents.refused().get("big").contains(specs.resolve("big.json").toString()));
            assertTrue(contents.refused().get("bad").contains("malformed"), contents.refused().toString());
            assertTrue(contents.refused().get("other").contains("'name' is not other"), contents.refused().toString());
        }
    }

    @Test
    void aRecordNameIsAlwaysAJobName() throws Exception {
        try (JobLedger ledger = withOneJob()) {
            for (String name : List.of("../escape", "a/b", ".hidden", "..", "")) {
                assertThrows(IllegalArgumentException.class, () -> ledger.starting(name, 1), name);
            }
            assertTrue(Files.notExists(tmp.resolve("escape.json")));
        }
    }

    @Test
    void aSpecRecordIsWrittenAtomicallyAndOnlyWhenItChanges() throws Exception {
        try (JobLedger ledger = withOneJob()) {
            Path record = tmp.resolve("state/specs/job.json");
            Object inode = Files.getAttribute(record, "unix:ino");
            ledger.accepted("job", 0, "client", new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
            assertEquals(inode, Files.getAttribute(record, "unix:ino"), "an unchanged spec costs no write");
            ledger.accepted("job", 0, "client", new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/false\"]}"));
            assertTrue(!inode.equals(Files.getAttribute(record, "unix:ino")), "a new file renamed over the old one");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(record)));
            try (var files = Files.list(record.getParent())) {
                assertEquals(List.of(record), files.toList(), "no temporary file left behind");
            }
        }
    }

    /**
     * Durable before the reply that makes it visible: a client's job's record is fsync'd, file
     * and directory. A jobs-directory job's record is rebuilt from its file after a power cut,
     * and run records mean nothing after one: neither costs a start an fsync.
     */
    @Test
    void onlyAClientJobsRecordIsFsynced() throws Exception {
        Files.createDirectories(tmp.resolve("run"));
        java.util.concurrent.atomic.AtomicInteger fsyncs = new java.util.concurrent.atomic.AtomicInteger();
        LedgerOs counting = new LedgerOs(new NativeOs(), libc -> (LedgerLibC) java.lang.reflect.Proxy.newProxyInstance(
                LedgerLibC.class.getClassLoader(), new Class<?>[] {LedgerLibC.class}, (proxy, method, args) -> {
                    if (method.getName().equals("fsync")) {
                        fsyncs.incrementAndGet();
                    }
                    try {
                        return method.invoke(libc, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                }));
        try (JobLedger ledger = JobLedger.open(counting, tmp.resolve("state"), tmp.resolve("run"), CrashPoints.none(), LOG)) {
            ledger.accepted("dir", 0, SpecRecord.JOBS_DIR, new JobSpecJson().parse("{\"name\":\"dir\",\"command\":[\"/bin/true\"]}"));
            ledger.starting("dir", 1);
            ledger.forked("dir", 1, ProcStat.of((int) ProcessHandle.current().pid()));
            assertEquals(0, fsyncs.get(), "a jobs-directory job's start pays no fsync");
            assertTrue(Files.readString(tmp.resolve("state/specs/dir.json")).contains(SpecRecord.JOBS_DIR), "yet its record is written");
            ledger.accepted("client", 0, "client", new JobSpecJson().parse("{\"name\":\"client\",\"command\":[\"/bin/true\"]}"));
            assertEquals(0, fsyncs.get(), "a new client job's record is in place, its fsyncs left to the flush");
            assertTrue(Files.readString(tmp.resolve("state/specs/client.json")).contains("/bin/true"));
            ledger.starting("client", 1);
            ledger.flush();
            assertEquals(2, fsyncs.get(), "the flush: the file, then the directory");
            ledger.flush();
            assertEquals(2, fsyncs.get(), "a flush with nothing new costs nothing");
            ledger.forked("client", 1, ProcStat.of((int) ProcessHandle.current().pid()));
            assertEquals(2, fsyncs.get(), "run records are never fsync'd");
            ledger.accepted("client", 0, "client", new JobSpecJson().parse("{\"name\":\"client\",\"command\":[\"/bin/false\"]}"));
            assertEquals(4, fsyncs.get(), "a changed spec replaces a durable record: fsync'd before it returns");
        }
    }

    /**
     * A new client job's record is fsync'd after its spawn began (JobLedger#flush): a power cut
     * before that may leave it empty, which is no record (its start was never answered), not a
     * job refused by name.
     */
    @Test
    void anEmptySpecRecordIsNoRecord() throws Exception {
        try (JobLedger ledger = withOneJob()) {
            ledger.flush();
        }
        Path empty = tmp.resolve("state/specs/new.json");
        Files.writeString(empty, "");
        Path marker = Files.createFile(tmp.resolve("state/specs/new.down")); // it was stopped, then the power cut
        try (JobLedger ledger = open()) {
            JobLedger.Contents contents = ledger.load();
            assertEquals(List.of("job"), contents.specs().stream().map(SpecRecord::name).toList(), contents.toString());
            assertTrue(contents.refused().isEmpty(), contents.toString());
            assertTrue(contents.warnings().stream().anyMatch(w -> w.contains(empty.toString()) && w.contains("empty")),
                    contents.warnings().toString());
            ledger.accepted("new", 0, "client", new JobSpecJson().parse("{\"name\":\"new\",\"command\":[\"/bin/true\"]}"));
            ledger.flush();
            assertTrue(Files.readString(empty).contains("/bin/true"), "a new job of the name writes it again");
            assertTrue(Files.notExists(marker), "without the marker beside the empty record, which it must not inherit");
        }
    }

    /**
     * A run record is rewritten in place: the same inode, a shorter record padded so that nothing
     * of the longer one shows; an empty file (a crash between its create and its write) is no
     * record; a FIFO or a symlink in its place neither blocks nor is followed, and is replaced.
     */
    @Test
    void aRunRecordIsRewrittenInPlaceAndWhatIsInTheWayIsReplaced() throws Exception {
        Path run = tmp.resolve("run/ledger/job.json");
        int self = (int) ProcessHandle.current().pid();
        try (JobLedger ledger = withOneJob()) {
            ledger.starting("job", 1);
            Object inode = Files.getAttribute(run, "unix:ino");
            ledger.forked("job", 1, ProcStat.of(self));
            ledger.stopping("job");
            assertEquals(inode, Files.getAttribute(run, "unix:ino"), "written in place");
            ledger.backoff("job", 1); // shorter: no pid
            String text = Files.readString(run);
            assertTrue(text.strip().endsWith("}") && text.endsWith(" ") && !text.contains("pid"),
                    "padded, nothing of the old record left: " + text);
        }
        try (JobLedger ledger = open()) {
            RunRecord record = ledger.load().runs().get("job");
            assertEquals(RunRecord.Phase.BACKOFF, record.phase(), record.toString());
            assertEquals(null, record.pid());
        }
        Files.write(run, new byte[0]);
        try (JobLedger ledger = open()) {
            JobLedger.Contents contents = ledger.load();
            assertTrue(contents.runs().isEmpty() && contents.refused().isEmpty(), "an empty record is none: " + contents);
        }
        Files.delete(run);
        new ProcessBuilder("mkfifo", run.toString()).start().waitFor();
        Files.writeString(tmp.resolve("target"), "theirs");
        try (JobLedger ledger = open()) {
            ledger.load();
            ledger.starting("job", 2);
            assertTrue(Files.isRegularFile(run, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the FIFO replaced, no block");
            Files.delete(run);
            Files.createSymbolicLink(run, tmp.resolve("target"));
            ledger.starting("job", 3);
            assertTrue(Files.isRegularFile(run, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the symlink replaced");
            assertEquals("theirs", Files.readString(tmp.resolve("target")), "never followed");
        }
        try (JobLedger ledger = open()) {
            assertEquals(3, ledger.load().runs().get("job").attempt());
        }
    }

    /**
     * A crash between creating the temporary file and renaming it leaves {@code .NAME.tmp}: the
     * next write of a spec record replaces it (a symlink there is unlinked, never followed); the
     * load at start-up removes one among the run records, which are rewritten in place.
     */
    @Test
    void aLeftoverTemporaryFileDoesNotBlockTheNextWrite() throws Exception {
        Files.createDirectories(tmp.resolve("run/ledger"));
        Path outside = Files.writeString(tmp.resolve("outside"), "untouched");
        Files.writeString(tmp.resolve("run/ledger/.job.tmp"), "a crash's leftover");
        Files.writeString(tmp.resolve("run/ledger/.tmp"), "no job's name in it");
        Files.createDirectories(tmp.resolve("state/specs"));
        Files.setPosixFilePermissions(tmp.resolve("state"), PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(tmp.resolve("state/specs"), PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(tmp.resolve("run/ledger"), PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(tmp.resolve("state/specs/.job.tmp"), outside);
        try (JobLedger ledger = open()) {
            List<String> warnings = ledger.load().warnings();
            assertTrue(warnings.stream().noneMatch(w -> w.contains("run/ledger/.job.tmp")), "a leftover is no stray");
            assertTrue(warnings.stream().anyMatch(w -> w.contains("run/ledger/.tmp")), "a bare .tmp is one: " + warnings);
            Files.delete(tmp.resolve("run/ledger/.tmp"));
            ledger.accepted("job", 0, "client", new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
            ledger.starting("job", 1);
            assertTrue(Files.readString(tmp.resolve("run/ledger/job.json")).contains("starting"));
            assertTrue(Files.readString(tmp.resolve("state/specs/job.json")).contains("/bin/true"));
            for (String dir : List.of("run/ledger", "state/specs")) {
                try (var files = Files.list(tmp.resolve(dir))) {
                    assertEquals(List.of(tmp.resolve(dir + "/job.json")), files.toList(), "no temporary file left in " + dir);
                }
            }
            assertEquals("untouched", Files.readString(outside), "the planted symlink was not followed");
        }
    }

    /** An unchanged start encodes and writes nothing; a change of owner, source or spec writes the record again. */
    @Test
    void aStartThatChangesNothingWritesNothing() throws Exception {
        try (JobLedger ledger = withOneJob()) {
            Path record = tmp.resolve("state/specs/job.json");
            Object inode = Files.getAttribute(record, "unix:ino");
            ledger.accepted("job", 0, "client", new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
            assertEquals(inode, Files.getAttribute(record, "unix:ino"), "an equal spec, parsed anew, costs no write");
            ledger.accepted("job", 0, SpecRecord.JOBS_DIR, new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
            assertTrue(Files.readString(record).contains(SpecRecord.JOBS_DIR), "a new source is written");
            ledger.accepted("job", 7, SpecRecord.JOBS_DIR, new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
            assertTrue(Files.readString(record).contains("\"owner\":7"), "a new owner is written: " + Files.readString(record));
            ledger.removed("job");
            ledger.accepted("job", 7, SpecRecord.JOBS_DIR, new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
            assertTrue(Files.exists(record), "after a removal, the same spec is written again");
        }
    }

    /** The desired state is an empty marker beside the record: a stop and a start never rewrite the record. */
    @Test
    void aStopMarksTheJobDownAndAStartUnmarksItWithoutRewritingItsRecord() throws Exception {
        Path record = tmp.resolve("state/specs/job.json");
        Path marker = tmp.resolve("state/specs/job.down");
        try (JobLedger ledger = withOneJob()) {
            Object inode = Files.getAttribute(record, "unix:ino");
            ledger.desired("job", false);
            assertTrue(Files.isRegularFile(marker, java.nio.file.LinkOption.NOFOLLOW_LINKS), "a stop leaves the marker");
            assertEquals(0, Files.size(marker));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(marker)));
            ledger.desired("job", false);
            assertTrue(Files.exists(marker), "a second stop keeps it");
            assertEquals(inode, Files.getAttribute(record, "unix:ino"), "a stop does not rewrite the record");
        }
        try (JobLedger ledger = open()) {
            JobLedger.Contents contents = ledger.load();
            assertEquals(1, contents.specs().size(), contents.toString());
            assertTrue(!contents.specs().get(0).up(), "a new blivetd reads the marker: desired down");
            ledger.accepted("job", 0, "client", new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
            assertTrue(Files.exists(marker), "the marker stays until the spawn is on its way");
            ledger.desired("job", true);
            assertTrue(Files.notExists(marker), "a start unlinks the marker");
            assertEquals(1, Files.getAttribute(record, "unix:nlink"));
            ledger.desired("job", false);
            ledger.removed("job");
            assertTrue(Files.notExists(marker) && Files.notExists(record), "remove deletes the marker too");
        }
        try (JobLedger ledger = open()) {
            assertTrue(ledger.load().specs().isEmpty());
        }
    }

    /** A marker that cannot be unlinked stays known, so the next start tries again. */
    @Test
    void aMarkerThatCannotBeUnlinkedIsTriedAgainByTheNextStart() throws Exception {
        Path marker = tmp.resolve("state/specs/job.down");
        try (JobLedger ledger = withOneJob()) {
            ledger.desired("job", false);
            Files.delete(marker);
            Files.createDirectories(marker.resolve("in-the-way")); // unlinkat: EISDIR
            ledger.desired("job", true);
            assertTrue(Files.isDirectory(marker));
            Files.delete(marker.resolve("in-the-way"));
            Files.delete(marker);
            Files.createFile(marker);
            ledger.desired("job", true);
            assertTrue(Files.notExists(marker), "the second start unlinks it: the first did not forget it");

            ledger.desired("job", false);
            Files.delete(marker);
            Files.createDirectories(marker.resolve("in-the-way"));
            ledger.removed("job");
            Files.delete(marker.resolve("in-the-way"));
            Files.delete(marker);
            Files.createFile(marker);
            ledger.accepted("job", 0, "client", new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
            assertTrue(Files.notExists(marker), "a remove that could not unlink it leaves it to the next job of the name");
        }
    }

    /**
     * A removal that a crash cut between the record's delete and the marker's leaves a marker
     * alone; a later job of that name must not be read as stopped by its owner.
     */
    @Test
    void anOrphanMarkerIsNotInheritedByTheNextJobOfItsName() throws Exception {
        Path marker = tmp.resolve("state/specs/job.down");
        try (JobLedger ledger = withOneJob()) {
            ledger.desired("job", false);
            Files.delete(tmp.resolve("state/specs/job.json")); // as a crash in removed() leaves it
        }
        try (JobLedger ledger = open()) {
            JobLedger.Contents contents = ledger.load();
            assertTrue(contents.specs().isEmpty(), contents.toString());
            assertTrue(contents.warnings().stream().anyMatch(w -> w.contains(marker.toString())), contents.toString());
            assertTrue(Files.exists(marker), "a load alone changes nothing");
            ledger.accepted("job", 0, "client", new JobSpecJson().parse("{\"name\":\"job\",\"command\":[\"/bin/true\"]}"));
            assertTrue(Files.notExists(marker), "a new job of that name starts without it");
        }
        try (JobLedger ledger = open()) {
            assertTrue(ledger.load().specs().get(0).up(), "so the next load reads it as up");
        }
    }

    /**
     * A start writes its {@code starting} record before it unlinks the marker, so a crash in
     * between leaves both: the next blivetd reads the job as up and unlinks the marker. A stop
     * turns a {@code starting} record into {@code stopping} before it creates the marker, so the
     * same pair never stands for a stop.
     */
    @Test
    void aStartingRecordBesideAMarkerIsAStartTheCrashInterruptedAndAStopNeverLeavesOne() throws Exception {
        Path marker = tmp.resolve("state/specs/job.down");
        try (JobLedger ledger = withOneJob()) {
            ledger.desired("job", false);
            ledger.starting("job", 2); // a crash now: the unlink that follows the spawn never ran
        }
        assertTrue(Files.exists(marker));
        try (JobLedger ledger = open()) {
            JobLedger.Contents contents = ledger.load();
            assertTrue(contents.specs().get(0).up(), "the start was newer than the marker: " + contents);
            assertTrue(Files.notExists(marker), "and the marker is gone, so a reboot starts it too");
            assertEquals(RunRecord.Phase.STARTING, contents.runs().get("job").phase());
            // Not taken over (re-adoption could not decide it): its owner stops it, and a crash
            // right after must still leave a stop, not a start.
            ledger.desired("job", false);
        }
        try (JobLedger ledger = open()) {
            JobLedger.Contents contents = ledger.load();
            assertTrue(!contents.specs().get(0).up(), contents.toString());
            assertEquals(RunRecord.Phase.STOPPING, contents.runs().get("job").phase());
            assertTrue(Files.exists(marker));
            ledger.starting("job", 4);
            ledger.forked("job", 4, ProcStat.of((int) ProcessHandle.current().pid()));
        }
        // A pid is recorded in a later loop task than the start's unlink: with one, the marker
        // is not a start's leftover (a stop whose rewrite failed, an older blivetd's stop).
        try (JobLedger ledger = open()) {
            JobLedger.Contents contents = ledger.load();
            assertTrue(!contents.specs().get(0).up(), "a marker beside a record with a pid is a stop: " + contents);
            assertTrue(Files.exists(marker));
        }
    }

    /** A marker passes the checks of a record and must be empty, or its job is refused by name. */
    @Test
    void aHostileMarkerRefusesItsJobByName() throws Exception {
        Path specs = tmp.resolve("state/specs");
        try (JobLedger ledger = withOneJob()) {
            String record = Files.readString(specs.resolve("job.json"));
            for (String name : List.of("link", "theirs", "full", "hard", "dir")) {
                Files.writeString(specs.resolve(name + ".json"), record.replace("\"job\"", "\"" + name + "\""));
            }
            Files.writeString(tmp.resolve("target"), "");
            Files.createSymbolicLink(specs.resolve("link.down"), tmp.resolve("target"));
            Files.writeString(specs.resolve("theirs.down"), "");
            Files.setAttribute(specs.resolve("theirs.down"), "unix:uid", NOBODY);
            Files.writeString(specs.resolve("full.down"), "x");
            Files.writeString(specs.resolve("hard.down"), "");
            Files.createLink(tmp.resolve("hard-too"), specs.resolve("hard.down"));
            Files.createDirectory(specs.resolve("dir.down"));
            Files.writeString(specs.resolve("ghost.down"), "");
        }
        try (JobLedger ledger = open()) {
            JobLedger.Contents contents = ledger.load();
            Map<String, String> refused = contents.refused();
            assertTrue(refused.get("link").contains("a symlink"), refused.toString());
            assertTrue(refused.get("link").contains(specs.resolve("link.down").toString()), refused.toString());
            assertTrue(refused.get("theirs").contains("belongs to uid " + NOBODY), refused.toString());
            assertTrue(refused.get("full").contains("more than a marker holds"), refused.toString());
            assertTrue(refused.get("hard").contains("2 links"), refused.toString());
            assertTrue(refused.get("dir").contains("not a regular file"), refused.toString());
            assertEquals(List.of("job"), contents.specs().stream().map(SpecRecord::name).toList(), contents.toString());
            assertTrue(contents.specs().get(0).up());
            assertTrue(contents.warnings().stream().anyMatch(w -> w.contains(specs.resolve("ghost.down").toString())
                    && w.contains("does not hold")), contents.warnings().toString());
            assertEquals("", Files.readString(tmp.resolve("target")), "the symlink's target untouched");
        }
    }

    /**
     * Records are read on several threads: with many of them, the good ones, the refused ones
     * (each with its own file's reason), the markers and the strays come out exactly as a
     * one-by-one read gave them, in name order, the same at every load.
     */
    @Test
    void manyRecordsReadInParallelComeOutInOrderWithEachRefusalNamed() throws Exception {
        Path specs = tmp.resolve("state/specs");
        Path runs = tmp.resolve("run/ledger");
        List<String> good = new java.util.ArrayList<>();
        java.util.Map<String, String> bad = new java.util.TreeMap<>();
        try (JobLedger ledger = withOneJob()) {
            good.add("job");
            for (int i = 0; i < 300; i++) {
                String name = "j" + i;
                ledger.accepted(name, 0, "client", new JobSpecJson().parse("{\"name\":\"" + name
                        + "\",\"command\":[\"/bin/true\"]}"));
                ledger.starting(name, i);
                if (i % 13 == 0) {
                    ledger.desired(name, false); // before the damage below: it rewrites the run record
                }
                if (i % 7 == 3) {
                    Files.writeString(specs.resolve(name + ".json"), "{\"version\":1,");
                    bad.put(name, specs.resolve(name + ".json") + ": malformed");
                } else {
                    good.add(name); // its spec record is read even when its run record is refused
                    if (i % 11 == 5) {
                        Files.writeString(runs.resolve(name + ".json"), "[]");
                        bad.put(name, runs.resolve(name + ".json") + ": not a JSON object");
                    }
                }
            }
            Files.writeString(specs.resolve("stray.txt"), "");
            Files.writeString(specs.resolve("nobody.down"), "");
        }
        good.sort(null);
        try (JobLedger ledger = open()) {
            JobLedger.Contents first = ledger.load();
            assertEquals(good, first.specs().stream().map(SpecRecord::name).toList());
            assertEquals(bad.keySet(), first.refused().keySet());
            bad.forEach((name, why) -> assertTrue(first.refused().get(name).startsWith("ledger record refused: " + why),
                    first.refused().get(name)));
            for (SpecRecord record : first.specs()) {
                boolean stopped = record.name().matches("j[0-9]+") && Integer.parseInt(record.name().substring(1)) % 13 == 0;
                assertEquals(!stopped, record.up(), record.name());
            }
            long badRuns = bad.values().stream().filter(why -> why.startsWith(runs.toString())).count();
            assertEquals(300 - badRuns, first.runs().size(), "every run record that is not refused itself");
            for (RunRecord run : first.runs().values()) {
                boolean stopped = Integer.parseInt(run.name().substring(1)) % 13 == 0;
                assertEquals(stopped ? RunRecord.Phase.STOPPING : RunRecord.Phase.STARTING, run.phase(), run.name());
            }
            assertEquals(2, first.warnings().size(), first.warnings().toString());
            assertTrue(first.warnings().toString().contains(specs.resolve("stray.txt").toString()));
            assertTrue(first.warnings().toString().contains(specs.resolve("nobody.down").toString()));
            JobLedger.Contents again = ledger.load();
            assertEquals(first.specs(), again.specs());
            assertEquals(first.runs(), again.runs());
            assertEquals(first.refused(), again.refused());
            assertEquals(first.warnings(), again.warnings());
        }
    }

    /** blivetd itself: a refused directory stops it with a clear error; a refused record does not. */
    @Test
    void blivetdRefusesAHostileStateDirectoryAndListsARefusedRecordAsFailed() throws Exception {
        Path daemonDir = Files.createDirectories(tmp.resolve("d"));
        Path state = Files.createDirectories(daemonDir.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxrwxrwx"));
        AssertionError refused = assertThrows(AssertionError.class, () -> BlivetdProcess.start(daemonDir).close());
        assertTrue(refused.getMessage().contains("cannot use the ledger: refusing " + state), refused.getMessage());

        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
        Path specs = Files.createDirectories(state.resolve("specs"));
        Files.setPosixFilePermissions(specs, PosixFilePermissions.fromString("rwx------"));
        Files.writeString(specs.resolve("huge.json"), " ".repeat(RecordCodec.MAX_RECORD_BYTES + 1));
        try (BlivetdProcess daemon = BlivetdProcess.start(daemonDir); Client client = daemon.client()) {
            JsonNode huge = client.ok("status", "\"name\":\"huge\"");
            assertEquals("failed", huge.get("state").asText(), huge.toString());
            assertTrue(huge.get("last_error").asText().contains("more than a record may hold"), huge.toString());
            JsonNode start = client.call("start", "\"name\":\"huge\"");
            assertTrue(start.toString().contains("no usable spec"), start.toString());
            client.ok("remove", "\"name\":\"huge\"");
            assertTrue(Files.notExists(specs.resolve("huge.json")), "remove deletes the refused record");
        }
    }
}
