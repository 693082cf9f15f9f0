package dev.blivet.common;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

/** Reads job specs from JSON, turning Jackson's failures into messages that name the key. */
public final class JobSpecJson {
    private final ObjectMapper mapper = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    public JobSpec parse(String json) throws SpecException {
        try {
            return mapper.readValue(json, JobSpec.class);
        } catch (UnrecognizedPropertyException e) {
            throw new SpecException(ExitCode.USAGE, "unknown key '" + e.getPropertyName() + "'");
        } catch (MismatchedInputException e) {
            throw new SpecException(ExitCode.USAGE, describe(e));
        } catch (JsonProcessingException e) {
            throw new SpecException(ExitCode.USAGE, "malformed JSON: " + e.getOriginalMessage());
        }
    }

    public JobSpec read(Path file) throws SpecException {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new SpecException(ExitCode.NO_INPUT, "cannot read " + file + ": " + e.getMessage());
        } catch (SpecException e) {
            throw new SpecException(ExitCode.USAGE, file + ": " + e.getMessage());
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
            case "RestartPolicy" -> "one of no, on-failure, always";
            case "JobSpec" -> "a JSON object";
            default -> typeName;
        };
    }
}
