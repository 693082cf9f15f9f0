package dev.blivet.daemon.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.SpecException;
import dev.blivet.common.StrictJson;
import dev.blivet.common.protocol.Protocol;
import java.nio.charset.StandardCharsets;

/**
 * The ledger's two record formats, JSON read with the project's StrictJson and its limits: a
 * record holds at most one spec plus its envelope, so it is read no further than
 * {@link #MAX_RECORD_BYTES}. Every refusal names the record and the field at fault.
 */
final class RecordCodec {
    /** Room around a spec for the envelope fields. */
    private static final int ENVELOPE_BYTES = 1024;
    /** A spec record: the largest spec blivetd accepts, plus its envelope. */
    static final int MAX_RECORD_BYTES = Protocol.MAX_SPEC_BYTES + ENVELOPE_BYTES;
    private static final int VERSION = 1;
    private static final StrictJson READER = new StrictJson(new StrictJson.Limits(MAX_RECORD_BYTES,
            Protocol.MAX_SPEC_TOKENS + 64, Protocol.MAX_REQUEST_DEPTH, Protocol.MAX_NUMBER_CHARS));

    private final ObjectMapper mapper = new ObjectMapper();
    private final JobSpecJson specs = new JobSpecJson();

    /** The desired state is not written: it is the {@code NAME.down} marker ({@link LedgerDir#mark}). */
    byte[] spec(SpecRecord record) {
        ObjectNode node = mapper.createObjectNode();
        node.put("version", VERSION);
        node.put("name", record.name());
        node.put("owner", record.owner());
        node.put("source", record.source());
        try {
            node.set("spec", mapper.readTree(specs.write(record.spec())));
            return mapper.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a spec record always serializes", e);
        }
    }

    /**
     * Written by hand, not through a Jackson tree: a start writes two run records on the loop the
     * reply waits on, and building and serializing a tree for each cost more than their writes
     * (docs/benchmarks.md, "The ledger"). Every field is a number, a boolean or one of three
     * strings (a job name, a phase, a boot id) escaped by {@link #appendString}; what
     * {@link #run(String, String, byte[])} reads back is tested against what this writes.
     */
    byte[] run(RunRecord record) {
        StringBuilder json = new StringBuilder(192).append("{\"version\":").append(VERSION).append(",\"name\":");
        appendString(json, record.name()).append(",\"attempt\":").append(record.attempt()).append(",\"phase\":");
        appendString(json, record.phase().wire());
        if (record.pid() != null) {
            json.append(",\"pid\":").append(record.pid().intValue()).append(",\"pgid\":").append(record.pgid().intValue())
                    .append(",\"start_time\":").append(record.startTime().longValue());
        }
        appendString(json.append(",\"boot_id\":"), record.bootId());
        if (record.exit() != null) {
            json.append(",\"exit_code\":").append(record.exit().code()).append(",\"exit_signal\":")
                    .append(record.exit().signal()).append(",\"core_dumped\":").append(record.exit().coreDumped());
        }
        return json.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A JSON string: quotes, backslashes and control characters escaped, the rest as is (UTF-8 later). */
    private static StringBuilder appendString(StringBuilder json, String text) {
        json.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                json.append('\\').append(c);
            } else if (c < 0x20) {
                json.append(String.format("\\u%04x", (int) c));
            } else {
                json.append(c);
            }
        }
        return json.append('"');
    }

    /** Read as desired up: the caller knows whether its marker says down. */
    SpecRecord spec(String where, String name, byte[] bytes) throws LedgerDir.BadRecord {
        JsonNode tree = parse(where, bytes);
        checkHead(where, name, tree);
        String source = text(where, tree, "source");
        JsonNode spec = tree.get("spec");
        if (spec == null || !spec.isObject()) {
            throw new LedgerDir.BadRecord(where + ": 'spec' must be an object");
        }
        try {
            SpecRecord record = new SpecRecord(name, (int) number(where, tree, "owner", 0, Integer.MAX_VALUE), source,
                    true, specs.fromTree(spec));
            if (!name.equals(record.spec().name())) {
                throw new LedgerDir.BadRecord(where + ": its spec names job " + record.spec().name());
            }
            return record;
        } catch (SpecException e) {
            throw new LedgerDir.BadRecord(where + ": 'spec': " + e.getMessage());
        }
    }

    RunRecord run(String where, String name, byte[] bytes) throws LedgerDir.BadRecord {
        JsonNode tree = parse(where, bytes);
        checkHead(where, name, tree);
        RunRecord.Phase phase = RunRecord.Phase.of(text(where, tree, "phase"));
        if (phase == null) {
            throw new LedgerDir.BadRecord(where + ": 'phase' is not one blivetd writes");
        }
        Integer pid = null;
        Integer pgid = null;
        Long startTime = null;
        if (tree.has("pid")) {
            pid = (int) number(where, tree, "pid", 1, Integer.MAX_VALUE);
            pgid = (int) number(where, tree, "pgid", 1, Integer.MAX_VALUE);
            startTime = number(where, tree, "start_time", 0, Long.MAX_VALUE);
        }
        dev.blivet.daemon.launch.ExitStatus exit = null;
        if (tree.has("exit_code")) {
            // As ExitStatus holds it: a code (0-255) and no signal, or -1 and a signal (1-64).
            int code = (int) number(where, tree, "exit_code", -1, 255);
            int signal = (int) number(where, tree, "exit_signal", 0, 64);
            if ((code < 0) == (signal == 0)) {
                throw new LedgerDir.BadRecord(where + ": 'exit_code' and 'exit_signal' contradict each other");
            }
            exit = new dev.blivet.daemon.launch.ExitStatus(code, signal, tree.path("core_dumped").asBoolean(false));
        }
        return new RunRecord(name, number(where, tree, "attempt", 0, Long.MAX_VALUE), phase, pid, pgid, startTime,
                text(where, tree, "boot_id"), exit);
    }

    private static JsonNode parse(String where, byte[] bytes) throws LedgerDir.BadRecord {
        try {
            JsonNode tree = READER.parse(bytes);
            if (!tree.isObject()) {
                throw new LedgerDir.BadRecord(where + ": not a JSON object");
            }
            return tree;
        } catch (JsonProcessingException e) {
            throw new LedgerDir.BadRecord(where + ": malformed: " + e.getOriginalMessage());
        }
    }

    private static void checkHead(String where, String name, JsonNode tree) throws LedgerDir.BadRecord {
        if (number(where, tree, "version", 0, Integer.MAX_VALUE) != VERSION) {
            throw new LedgerDir.BadRecord(where + ": 'version' is not " + VERSION);
        }
        if (!name.equals(text(where, tree, "name"))) {
            throw new LedgerDir.BadRecord(where + ": 'name' is not " + name + ", the name of its file");
        }
    }

    private static String text(String where, JsonNode tree, String field) throws LedgerDir.BadRecord {
        JsonNode value = tree.get(field);
        if (value == null || !value.isTextual()) {
            throw new LedgerDir.BadRecord(where + ": '" + field + "' must be a string");
        }
        return value.asText();
    }

    private static long number(String where, JsonNode tree, String field, long min, long max) throws LedgerDir.BadRecord {
        JsonNode value = tree.get(field);
        if (value == null || !value.canConvertToLong() || !value.isIntegralNumber() || value.asLong() < min
                || value.asLong() > max) {
            throw new LedgerDir.BadRecord(where + ": '" + field + "' must be an integer from " + min + " to " + max);
        }
        return value.asLong();
    }

    static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
