package dev.blivet.daemon.ledger;

import dev.blivet.common.JobSpec;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.proc.ProcStat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The job ledger (docs/architecture.md, "Custody: the ledger"): a spec record per job under
 * {@code STATE_DIR/specs/} (a client's job's is durable: fsync'd before the reply that makes the
 * job visible; it survives reboots; a jobs-directory job's is rebuilt from its file), beside it an empty marker {@code NAME.down} while its owner wants it stopped,
 * and a run record per job with a process under {@code RUNTIME_DIR/ledger/}
 * (pid, process group, start time, boot id, attempt; never fsync'd: pids mean nothing after a
 * reboot). Loop thread only, after {@link #load} on blivetd's main thread before anyone is served.
 */
public final class JobLedger implements Recorder, AutoCloseable {
    /** What the ledger held at start-up. */
    public record Contents(List<SpecRecord> specs, Map<String, RunRecord> runs, Map<String, String> refused,
            List<String> warnings) {
    }

    private final LedgerDir state;
    private final LedgerDir specs;
    private final LedgerDir runtime;
    private final CrashPoints crash;
    private final Log log;
    private final String bootId = BootId.current();
    private final RecordCodec codec = new RecordCodec();
    /** What each spec record holds now, so an unchanged start costs no write. */
    private final Map<String, byte[]> written = new HashMap<>();
    /**
     * What each job was last accepted with, its record written: a start that changes nothing
     * compares this and encodes nothing (encoding the spec cost a start after a stop 0.25 ms on
     * the loop: docs/benchmarks.md, "The ledger").
     */
    private final Map<String, SpecRecord> accepted = new HashMap<>();
    private final Map<String, RunRecord> runs = new HashMap<>();
    /** The jobs whose {@code NAME.down} marker exists, so a start of any other costs no unlink. */
    private final Set<String> down = new HashSet<>();
    /**
     * Markers the load found without a spec record (a removal that a crash cut between the
     * record's delete and the marker's): unlinked when a job of that name is next accepted, which
     * would otherwise be read as stopped by its owner at the next load.
     */
    private final Set<String> orphanMarkers = new HashSet<>();
    /**
     * A new client job's record, in place but not fsync'd yet, by an fd open on it: {@link #flush}
     * makes it durable while the helper is spawned, before any reply shows the job.
     */
    private final Map<String, Integer> unsynced = new HashMap<>();

    private JobLedger(LedgerDir state, LedgerDir specs, LedgerDir runtime, CrashPoints crash, Log log) {
        this.state = state;
        this.specs = specs;
        this.runtime = runtime;
        this.crash = crash;
        this.log = log;
    }

    /**
     * Opens (making them 0700 if missing) {@code stateDir}, its {@code specs} and {@code runtimeDir/ledger}.
     *
     * @throws IOException naming the directory refused and why
     */
    public static JobLedger open(LedgerOs os, Path stateDir, Path runtimeDir, CrashPoints crash, Log log)
            throws IOException {
        LedgerDir state = LedgerDir.open(os, stateDir);
        LedgerDir specs = null;
        try {
            specs = LedgerDir.open(os, state.path().resolve("specs"));
            return new JobLedger(state, specs, LedgerDir.open(os, runtimeDir.resolve("ledger")), crash, log);
        } catch (IOException | RuntimeException e) {
            state.close();
            if (specs != null) {
                specs.close();
            }
            throw e;
        }
    }

    public String bootId() {
        return bootId;
    }

    /**
     * Encodes a spec record and a run record of {@code spec} and compares two spec records, and
     * writes nothing: for the warm-up at boot ({@code server/Warmup}). A record's equals is bound
     * on its first call (ObjectMethods: 25-35 ms interpreted) and this codec's mapper builds its
     * JobSpec serializer on its first record; both were the first start's (docs/benchmarks.md,
     * "Issue 13"). Thread safe: the codec's mappers are.
     */
    public long rehearse(JobSpec spec) {
        SpecRecord record = new SpecRecord(spec.name(), 0, SpecRecord.JOBS_DIR, true, spec);
        long produced = record.equals(new SpecRecord(spec.name(), 0, SpecRecord.JOBS_DIR, true, spec)) ? 1 : 0;
        produced += codec.spec(record).length;
        return produced + codec.run(new RunRecord(spec.name(), 1, RunRecord.Phase.STARTING, 1, 1, 1L, bootId)).length;
    }

    /** One record as read on some thread: the record (null if it vanished), or why not. */
    private record Read<T>(String name, byte[] bytes, T record, IOException error) {
    }

    /**
     * Every record; refused ones by job name with the reason, which names the file. The records
     * are read and parsed on every core (a new JVM answers no one before re-adoption, which waits
     * for this: docs/benchmarks.md, "Custody"), and the result is assembled in name order, so it
     * is the same whatever the threads did.
     */
    public Contents load() throws IOException {
        List<SpecRecord> specRecords = new ArrayList<>();
        Map<String, RunRecord> runRecords = new LinkedHashMap<>();
        Map<String, String> refused = new TreeMap<>();
        List<String> warnings = new ArrayList<>();
        List<String> strays = new ArrayList<>();
        List<String> markers = new ArrayList<>();
        List<String> names = specs.names(strays, markers);
        Set<String> marked = new HashSet<>(markers);
        Set<String> held = new HashSet<>(names);
        for (Read<SpecRecord> read : names.parallelStream().map(name -> readSpec(name, marked.contains(name))).toList()) {
            if (read.bytes() != null && read.bytes().length == 0) {
                warnings.add("ignored " + specs.where(read.name()) + ": empty (a power cut before its first fsync), no record");
                held.remove(read.name()); // its marker, if any, is an orphan: a next job of the name must not inherit it
            }
            if (refusedOrGone(read, refused)) {
                continue;
            }
            specRecords.add(read.record());
            written.put(read.name(), read.bytes());
            if (!read.record().up()) {
                down.add(read.name());
            }
        }
        markers.stream().filter(name -> !held.contains(name)).forEach(name -> {
            orphanMarkers.add(name);
            warnings.add("ignored " + specs.path().resolve(name + LedgerDir.DOWN) + ": the marker of a job the ledger"
                    + " does not hold (a removal a crash cut short); it goes when a job of that name is next made");
        });
        strays.forEach(file -> warnings.add("ignored " + specs.path().resolve(file) + ": not a record blivetd writes"));
        strays.clear();
        for (Read<RunRecord> read : runtime.names(strays, null).parallelStream().map(this::readRun).toList()) {
            if (!refusedOrGone(read, refused)) {
                runRecords.put(read.name(), read.record());
            }
        }
        for (String file : strays) {
            if (LedgerDir.temporary(file)) {
                runtime.removeTemporary(file); // a crash's leftover: run records are rewritten in place, so nothing else would
            } else {
                warnings.add("ignored " + runtime.path().resolve(file) + ": not a record blivetd writes");
            }
        }
        // Every run record of a job whose spec record loaded, taken over or not: a stop of a job
        // re-adoption could not decide must still turn its "starting" record into "stopping"
        // before it marks the job down (see desired), and the end of that stop deletes it. Not
        // those without a spec record: ignored, and a new job of that name must not inherit them.
        specRecords.forEach(spec -> {
            RunRecord run = runRecords.get(spec.name());
            if (run != null) {
                runs.put(spec.name(), run);
            }
        });
        return new Contents(startedSinceMarked(specRecords, runRecords), runRecords, refused, warnings);
    }

    /**
     * The spec records, each job whose {@code starting} record of this boot, without a pid, sits
     * beside its {@code NAME.down} marker made up and its marker unlinked: a blivetd died between
     * a start's record and the unlink that follows it in the same loop task (see {@link #desired});
     * the pid is recorded by a later one.
     */
    private List<SpecRecord> startedSinceMarked(List<SpecRecord> specRecords, Map<String, RunRecord> runRecords) {
        List<SpecRecord> result = new ArrayList<>(specRecords.size());
        for (SpecRecord record : specRecords) {
            RunRecord run = runRecords.get(record.name());
            if (!record.up() && run != null && run.phase() == RunRecord.Phase.STARTING && run.pid() == null
                    && bootId.equals(run.bootId())) {
                record = new SpecRecord(record.name(), record.owner(), record.source(), true, record.spec());
                if (unmarkOrWarn(record.name())) {
                    down.remove(record.name()); // only once it is gone: the job's next start tries again
                }
            }
            result.add(record);
        }
        return result;
    }

    /**
     * A spec record with its desired state. Only a job whose {@code NAME.down} the listing showed
     * has its marker opened and checked: a marker that fails the checks of a record refuses the
     * job, as its record would. Only root can write here, so it is tampering, and guessing either
     * way could start a job its owner stopped or keep one down it should not.
     */
    private Read<SpecRecord> readSpec(String name, boolean listedDown) {
        try {
            byte[] bytes = specs.read(name, RecordCodec.MAX_RECORD_BYTES);
            if (bytes == null || bytes.length == 0) {
                // Empty: a power cut before a new record's first fsync (a client's new job, whose
                // start no reply showed; a jobs-directory job's, rebuilt from its file): none.
                return new Read<>(name, bytes, null, null);
            }
            SpecRecord record = codec.spec(specs.where(name), name, bytes);
            boolean stopped = listedDown && specs.marked(name);
            return new Read<>(name, bytes, new SpecRecord(name, record.owner(), record.source(), !stopped, record.spec()),
                    null);
        } catch (IOException e) {
            return new Read<>(name, null, null, e);
        }
    }

    private Read<RunRecord> readRun(String name) {
        try {
            byte[] bytes = runtime.read(name, RecordCodec.MAX_RECORD_BYTES);
            // Empty: a crash between the create and the write of a start's first record, before
            // anything was spawned (LedgerDir#overwrite): no record.
            boolean none = bytes == null || bytes.length == 0;
            return new Read<>(name, bytes, none ? null : codec.run(runtime.where(name), name, bytes), null);
        } catch (IOException e) {
            return new Read<>(name, null, null, e);
        }
    }

    /**
     * Whether {@code read} holds no record: refused (a spec record's refusal comes first) or gone.
     *
     * @throws IOException a failure that is not about the record, as a sequential read threw it
     */
    private static boolean refusedOrGone(Read<?> read, Map<String, String> refused) throws IOException {
        if (read.error() instanceof LedgerDir.BadRecord bad) {
            refused.putIfAbsent(read.name(), "ledger record refused: " + bad.getMessage());
            return true;
        }
        if (read.error() != null) {
            throw read.error();
        }
        return read.record() == null;
    }

    /**
     * A new spec, owner or source of a job the ledger holds is fsync'd (with its directory)
     * before this returns; a new job's record is in place when this returns and durable at the
     * next {@link #flush}; an unchanged one costs no write. Its {@code NAME.down} marker stays:
     * the caller unlinks it with {@link #desired} once the spawn is on its way (see there).
     *
     * <p>The record of a job from the jobs directory is written but not fsync'd: its file there
     * is its durable source, and every start-up applies the directory after the ledger, so a
     * record a power cut lost, left empty or tore is rebuilt from the file (a torn one is
     * refused by name, then replaced: {@code JobsReconciler}). Two fsyncs for each of a
     * thousand such jobs tripled a mass start at boot (docs/benchmarks.md, "The ledger").
     */
    @Override
    public void accepted(String name, int owner, String source, JobSpec spec) throws IOException {
        SpecRecord was = accepted.get(name);
        if (was != null && was.spec() == spec && was.owner() == owner && was.source().equals(source)) {
            return; // a start by name: the same spec object, no need to compare it field by field
        }
        SpecRecord record = new SpecRecord(name, owner, source, true, spec);
        if (orphanMarkers.contains(name)) {
            specs.unmark(name); // before the record: a crash in between leaves neither
            orphanMarkers.remove(name);
        }
        if (!record.equals(was)) {
            byte[] bytes = codec.spec(record);
            if (bytes.length > RecordCodec.MAX_RECORD_BYTES) {
                throw new IOException("the ledger record of job " + name + " would hold " + bytes.length
                        + " bytes, more than " + RecordCodec.MAX_RECORD_BYTES);
            }
            if (!Arrays.equals(bytes, written.get(name))) {
                boolean durable = !SpecRecord.JOBS_DIR.equals(source);
                if (durable && written.get(name) == null && !unsynced.containsKey(name)
                        && bytes.length <= LedgerDir.IN_PLACE_MAX) {
                    // A new name: a power cut before the flush can only lose or empty this record
                    // (one page: not torn), whose start no reply has shown. A rewrite stays durable
                    // here: it replaces one that was.
                    unsynced.put(name, specs.placeUnsynced(name, bytes));
                } else {
                    specs.write(name, bytes, durable);
                }
                written.put(name, bytes);
            }
            accepted.put(name, record);
        }
    }

    /**
     * Makes the new records of {@link #accepted} durable: each file's fsync, then the directory's.
     * The supervisor calls it once the spawn is on its way, in the same loop task, so the 0.4-0.8
     * ms of fsyncs overlap the helper's work instead of delaying it (docs/benchmarks.md, "Round 6"),
     * and no reply that shows the job comes before it. A failure is logged, not thrown: the job
     * runs, and only a power cut could still lose its record.
     */
    @Override
    public void flush() {
        if (unsynced.isEmpty()) {
            return;
        }
        List<String> retry = new ArrayList<>();
        for (Iterator<Map.Entry<String, Integer>> records = unsynced.entrySet().iterator(); records.hasNext();) {
            Map.Entry<String, Integer> record = records.next();
            records.remove(); // before the close: an fd number is never closed twice
            try {
                specs.syncFile(record.getValue());
            } catch (IOException e) {
                retry.add(record.getKey());
            } finally {
                specs.close(record.getValue());
            }
        }
        try {
            specs.sync();
        } catch (IOException e) {
            log.warn("the ledger's records of new jobs may not survive a power cut: " + e.getMessage());
        }
        // A failed fsync may have left the pages clean but unwritten: the record is written again, durably.
        for (String name : retry) {
            byte[] bytes = written.get(name);
            if (bytes == null) {
                continue; // removed since: nothing to keep
            }
            try {
                specs.write(name, bytes, true);
            } catch (IOException e) {
                log.warn("job " + name + ": its ledger record may not survive a power cut: " + e.getMessage());
            }
        }
    }

    /**
     * Creates (down) or unlinks (up) the empty marker {@code NAME.down}, never fsync'd: it holds
     * no data, so ext4 flushes nothing for it, and a power cut that loses the change only decides
     * whether {@code autostart} applies after the reboot (docs/architecture.md, "Custody: the
     * ledger"). Rewriting the spec record for it cost a start after a stop a rename over a file,
     * which ext4 flushes (docs/benchmarks.md, "The ledger").
     *
     * <p>A start unlinks the marker after its {@code starting} record, once the spawn is on its
     * way, so the unlink (60 us on ext4) overlaps the helper's work instead of delaying it. A
     * crash in between leaves a {@code starting} record without a pid beside the marker, which
     * {@link #load} reads as up: such a record is always newer than the marker, because a stop
     * turns it into {@code stopping} (or, if that write fails, deletes it) before it creates the
     * marker.
     */
    @Override
    public void desired(String name, boolean up) {
        if (!written.containsKey(name)) {
            return;
        }
        RunRecord run = runs.get(name);
        if (!up && run != null && run.phase() == RunRecord.Phase.STARTING) {
            boolean rewritten = writeRun(run.with(RunRecord.Phase.STOPPING));
            if (!rewritten && run.pid() == null) {
                // A "starting" record without a pid must never stay beside the marker (load reads
                // that pair as up): gone, a crash leaves the job down, as its owner asked, and
                // what the start may have spawned is in its cgroup. With a pid, it reads as down.
                runs.remove(name);
                runtime.delete(name);
            }
        }
        try {
            if (up && down.contains(name)) {
                specs.unmark(name);
                down.remove(name); // only once it is gone: the next start tries again
            } else if (!up && down.add(name)) {
                specs.mark(name);
            }
        } catch (IOException e) {
            if (!up) {
                down.remove(name);
            }
            log.warn("job " + name + ": cannot record its desired state (" + (up ? "up" : "down") + "): " + e.getMessage());
        }
    }

    @Override
    public void starting(String name, long attempt) throws IOException {
        RunRecord record = new RunRecord(name, attempt, RunRecord.Phase.STARTING, null, null, null, bootId);
        runtime.overwrite(name, codec.run(record));
        runs.put(name, record);
        crash.reached(CrashPoints.AFTER_LEDGER_WRITE);
    }

    @Override
    public void forked(String name, long attempt, ProcStat process) {
        RunRecord was = runs.get(name);
        if (was == null || was.attempt() != attempt || process == null) {
            return; // gone already: the launch reports its failure, and the record stays "no pid"
        }
        writeRun(new RunRecord(name, attempt, was.phase(), process.pid(), process.pgid(), process.startTime(), bootId));
        crash.reached(CrashPoints.AFTER_SPAWN);
    }

    @Override
    public void adopted(RunRecord record) {
        runs.put(record.name(), record);
    }

    /**
     * Writes nothing: re-adoption treats {@code starting} with a pid exactly as {@code running}
     * (adopt the process if it is still the recorded one), so the record written at
     * {@link #forked} already says all a crash needs, and a start pays one rename fewer.
     */
    @Override
    public void running(String name) {
    }

    @Override
    public void stopping(String name) {
        RunRecord was = runs.get(name);
        if (was != null && was.phase() != RunRecord.Phase.STOPPING) {
            writeRun(was.with(RunRecord.Phase.STOPPING));
        }
    }

    @Override
    public void backoff(String name, long attempt) {
        writeRun(new RunRecord(name, attempt, RunRecord.Phase.BACKOFF, null, null, null, bootId));
    }

    @Override
    public void ended(String name) {
        if (runs.remove(name) != null) {
            runtime.delete(name);
        }
    }

    @Override
    public void over(String name, long attempt, dev.blivet.daemon.launch.ExitStatus exit) {
        writeRun(new RunRecord(name, attempt, RunRecord.Phase.ENDED, null, null, null, bootId, exit));
    }

    @Override
    public void removed(String name) {
        ended(name);
        runtime.delete(name); // also a record this JVM never took over (refused, or its job unknown)
        specs.delete(name);
        if (!unmarkOrWarn(name)) {
            orphanMarkers.add(name); // as a crash here would leave it: a next job of the name unlinks it first
        }
        down.remove(name);
        written.remove(name);
        accepted.remove(name);
        try {
            specs.sync();
        } catch (IOException e) {
            log.warn("job " + name + ": its removal from the ledger may not survive a power cut: " + e.getMessage());
        }
    }

    /** Whether the marker is gone; a failure is logged. */
    private boolean unmarkOrWarn(String name) {
        try {
            specs.unmark(name);
            return true;
        } catch (IOException e) {
            log.warn("job " + name + ": " + e.getMessage());
            return false;
        }
    }

    @Override
    public void reached(String point) {
        crash.reached(point);
    }

    /** Whether {@code record} is written; a failure is logged. */
    private boolean writeRun(RunRecord record) {
        try {
            runtime.overwrite(record.name(), codec.run(record));
            runs.put(record.name(), record);
            return true;
        } catch (IOException e) {
            log.warn("job " + record.name() + ": cannot record its process: " + e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        flush();
        state.close();
        specs.close();
        runtime.close();
    }
}
