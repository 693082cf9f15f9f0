package dev.blivet.common;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.protocol.Protocol;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Reads job specs from JSON, turning Jackson's failures into messages that name the key. */
public final class JobSpecJson {
    private final StrictJson reader = new StrictJson(Protocol.SPEC_LIMITS);
    private final ObjectMapper mapper = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            // The text itself is read by StrictJson (duplicate keys, trailing content, limits);
            // these guard write() round trips and any tree from elsewhere.
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            // Strings must be strings: a number or boolean where a name or path belongs is a mistake.
            .withCoercionConfig(LogicalType.Textual, c -> c
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .build();

    /** A spec from a file's text: the same strict reading as every other JSON blivet takes in. */
    public JobSpec parse(String json) throws SpecException {
        return parse(json.getBytes(StandardCharsets.UTF_8));
    }

    public JobSpec parse(byte[] json) throws SpecException {
        JsonNode tree;
        try {
            tree = reader.parse(json);
        } catch (JsonProcessingException e) {
            throw malformed(e);
        }
        return fromTree(tree);
    }

    /**
     * A spec already parsed by {@link StrictJson} (inline in a start request): converted from the
     * tree, never printed and parsed again, so it meets exactly the rules a spec file meets.
     */
    public JobSpec fromTree(JsonNode tree) throws SpecException {
        if (tree == null || tree.isNull()) {
            throw new SpecException(ExitCode.USAGE, "the spec: wrong type, expected a JSON object, not null");
        }
        try {
            reader.checkTree(tree); // inline, it was read with a request's limits: hold it to a file's
            if (tree.isObject()) {
                Map<String, List<SpecProblem>> shape = SpecShape.check(tree); // all, where binding stops at the first
                if (!shape.isEmpty()) {
                    throw new SpecException(shape.values().stream().flatMap(List::stream).toList());
                }
            }
            return mapper.treeToValue(tree, JobSpec.class);
        } catch (UnrecognizedPropertyException e) {
            throw new SpecException(ExitCode.USAGE, "unknown key '" + e.getPropertyName() + "'");
        } catch (MismatchedInputException e) {
            throw new SpecException(ExitCode.USAGE, describe(e));
        } catch (JsonMappingException e) {
            if (e.getPath().isEmpty() || !(e.getCause() instanceof InputCoercionException)) {
                throw new SpecException(ExitCode.USAGE, "malformed JSON: " + e.getOriginalMessage());
            }
            throw new SpecException(ExitCode.USAGE, "'" + e.getPath().get(e.getPath().size() - 1).getFieldName() + "': "
                    + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw malformed(e);
        }
    }

    /** What checks a bound spec: a resolver, on behalf of some uid. */
    public interface Check {
        void check(JobSpec spec) throws SpecException;
    }

    /**
     * Every problem of a spec tree at once: its unknown keys and wrong types, then what
     * {@code check} finds in the rest of it (the keys at fault left out, and the problems that
     * name them, which would only repeat them: "'command' is required" after a command of the
     * wrong type). Empty when the spec is sound.
     */
    public List<SpecProblem> problems(JsonNode tree, Check check) {
        JobSpec spec;
        List<SpecProblem> all = new ArrayList<>();
        Map<String, List<SpecProblem>> shape = tree != null && tree.isObject() ? SpecShape.check(tree) : Map.of();
        try {
            if (shape.isEmpty()) {
                spec = fromTree(tree);
            } else {
                ObjectNode sound = ((ObjectNode) tree).deepCopy();
                shape.keySet().forEach(sound::remove);
                shape.values().forEach(all::addAll);
                spec = fromTree(sound);
            }
        } catch (SpecException e) {
            all.addAll(e.problems());
            return all;
        }
        try {
            check.check(spec);
        } catch (SpecException e) {
            for (SpecProblem problem : e.problems()) {
                if (shape.keySet().stream().noneMatch(key -> problem.message().contains("'" + key))) {
                    all.add(problem);
                }
            }
        }
        return all;
    }

    private static SpecException malformed(JsonProcessingException e) {
        String why = e.getOriginalMessage();
        if (e instanceof StrictJson.LimitException) {
            return new SpecException(ExitCode.USAGE, "the spec is too large: " + why);
        }
        if (why.startsWith("trailing content")) {
            return new SpecException(ExitCode.USAGE, "malformed JSON: trailing content after the spec object");
        }
        return new SpecException(ExitCode.USAGE, "malformed JSON: " + why);
    }

    /**
     * A spec file, read no further than {@link Protocol#MAX_SPEC_BYTES} plus one byte; problems do
     * not name the file (the caller says which file it was).
     */
    public JobSpec parseFile(Path file) throws SpecException, IOException {
        byte[] bytes;
        try {
            bytes = reader.readFile(file);
        } catch (StrictJson.LimitException e) {
            throw malformed(e);
        }
        return parse(bytes);
    }

    /** A spec file; every problem names the file. */
    public JobSpec read(Path file) throws SpecException {
        try {
            return parseFile(file);
        } catch (IOException e) {
            throw new SpecException(ExitCode.NO_SPEC, file + ": " + e.getMessage());
        } catch (SpecException e) {
            throw new SpecException(e.problems().stream().map(p -> new SpecProblem(p.code(), file + ": " + p.message())).toList());
        }
    }

    public String write(JobSpec spec) {
        try {
            return mapper.writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JobSpec always serializes", e);
        }
    }

    private static String describe(MismatchedInputException e) {
        String path = e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
        String what = e.getTargetType() == null ? "value" : e.getTargetType().getSimpleName();
        if (path.startsWith("success_exit_codes")) {
            what = "ExitCodes";
        }
        return (path.isEmpty() ? "the spec" : "'" + path + "'") + ": wrong type, expected " + article(what);
    }

    private static String article(String typeName) {
        return switch (typeName) {
            case "List", "ArrayList" -> "an array of strings";
            case "Map", "LinkedHashMap" -> "an object";
            case "String" -> "a string";
            case "Boolean" -> "true or false";
            case "Integer", "Double" -> "a number";
            case "Readiness" -> "one of exec, notify-fd, sd-notify";
            case "ExitCodes" -> "an array of exit codes (integers)";
            case "RestartPolicy" -> "one of no, on-failure, always";
            case "KillMode" -> "one of all, main";
            case "JobSpec" -> "a JSON object";
            default -> typeName;
        };
    }
}
