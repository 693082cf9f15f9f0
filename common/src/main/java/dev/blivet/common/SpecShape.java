package dev.blivet.common;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A spec's keys and value types, checked on the parsed tree before it is bound to a
 * {@link JobSpec}, so that every unknown key and wrong type is reported at once (binding stops at
 * the first), with the key or value most likely meant. The keys and their types are
 * {@link JobSpec}'s own components: there is no second list to keep in step with it. A null value
 * is an absent key, as it is to the binding; null elements and env values pass, for the resolver
 * to name.
 */
final class SpecShape {
    /** Other tools' names for blivet's keys (supervisord, systemd, Docker), and common guesses. */
    private static final Map<String, String> KEY_ALIASES = Map.ofEntries(
            Map.entry("cwd", "chdir"), Map.entry("workdir", "chdir"), Map.entry("working_directory", "chdir"),
            Map.entry("workingdirectory", "chdir"), Map.entry("directory", "chdir"), Map.entry("dir", "chdir"),
            Map.entry("environment", "env"), Map.entry("cmd", "command"), Map.entry("argv", "command"),
            Map.entry("args", "command"), Map.entry("exec", "command"), Map.entry("execstart", "command"),
            Map.entry("stdout_logfile", "stdout"), Map.entry("stderr_logfile", "stderr"),
            Map.entry("autorestart", "restart"), Map.entry("startsecs", "start_grace"),
            Map.entry("stopwaitsecs", "stop_timeout"), Map.entry("timeoutstopsec", "stop_timeout"),
            Map.entry("killsignal", "stop_signal"), Map.entry("killmode", "kill_mode"), Map.entry("pid_file", "pidfile"), Map.entry("lock_file", "lockfile"));

    /** A key's expected value, by its component's type. */
    private record Field(String key, Type type) {
    }

    private static final Map<String, Field> FIELDS = fields();

    private final List<SpecProblem> problems = new ArrayList<>();

    private SpecShape() {
    }

    /**
     * Every unknown key and wrong type of a spec's top-level object, by the top-level key at
     * fault (in the spec's order); empty when it binds.
     */
    static Map<String, List<SpecProblem>> check(JsonNode spec) {
        Map<String, List<SpecProblem>> byKey = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = spec.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> entry = it.next();
            SpecShape shape = new SpecShape();
            Field field = FIELDS.get(entry.getKey());
            if (field == null) {
                shape.problem("unknown key '" + entry.getKey() + "'"
                        + DidYouMean.closest(entry.getKey(), FIELDS.keySet(), KEY_ALIASES)
                                .map(key -> " (did you mean '" + key + "'?)").orElse(""));
            } else if (!entry.getValue().isNull()) {
                shape.value(field.key(), field.type(), entry.getValue());
            }
            if (!shape.problems.isEmpty()) {
                byKey.put(entry.getKey(), shape.problems);
            }
        }
        return byKey;
    }

    private void value(String path, Type type, JsonNode node) {
        if (type == String.class) {
            expect(path, node.isTextual(), "a string");
        } else if (type == Boolean.class) {
            expect(path, node.isBoolean(), "true or false");
        } else if (type == Double.class) {
            expect(path, node.isNumber(), "a number");
        } else if (type == Integer.class) {
            integer(path, node, "an integer");
        } else if (type == Readiness.class) {
            choice(path, node, Arrays.stream(Readiness.values()).map(Readiness::jsonName).toList());
        } else if (type == RestartPolicy.class) {
            choice(path, node, Arrays.stream(RestartPolicy.values()).map(RestartPolicy::jsonName).toList());
        } else if (type == KillMode.class) {
            choice(path, node, Arrays.stream(KillMode.values()).map(KillMode::jsonName).toList());
        } else if (type instanceof ParameterizedType generic && generic.getRawType() == List.class) {
            Type element = generic.getActualTypeArguments()[0];
            if (expect(path, node.isArray(), element == Integer.class ? "an array of exit codes (integers)"
                    : "an array of strings")) {
                for (int i = 0; i < node.size(); i++) {
                    if (!node.get(i).isNull()) {
                        value(path + "[" + i + "]", element, node.get(i));
                    }
                }
            }
        } else if (type instanceof ParameterizedType generic && generic.getRawType() == Map.class) {
            Type element = generic.getActualTypeArguments()[1];
            if (expect(path, node.isObject(), "an object") && element == String.class) {
                node.fields().forEachRemaining(entry -> {
                    if (!entry.getValue().isNull()) {
                        value(path + "." + entry.getKey(), String.class, entry.getValue());
                    }
                });
            }
        } else {
            throw new IllegalStateException("JobSpec has a type SpecShape does not know: " + type);
        }
    }

    private void integer(String path, JsonNode node, String what) {
        if (expect(path, node.isIntegralNumber(), what) && !node.canConvertToInt()) {
            problem("'" + path + "': " + node.asText() + " is out of range for " + what);
        }
    }

    private void choice(String path, JsonNode node, List<String> choices) {
        String expected = "one of " + String.join(", ", choices);
        if (expect(path, node.isTextual(), expected) && !choices.contains(node.asText())) {
            problem("'" + path + "': \"" + node.asText() + "\" is not " + expected
                    + DidYouMean.hint(node.asText(), choices));
        }
    }

    private boolean expect(String path, boolean ok, String what) {
        if (!ok) {
            problem("'" + path + "': wrong type, expected " + what);
        }
        return ok;
    }

    private void problem(String message) {
        problems.add(new SpecProblem(ExitCode.USAGE, message));
    }

    private static Map<String, Field> fields() {
        Map<String, Field> fields = new LinkedHashMap<>();
        for (RecordComponent component : JobSpec.class.getRecordComponents()) {
            JsonProperty property; // on the field: JsonProperty cannot target a record component itself
            try {
                property = JobSpec.class.getDeclaredField(component.getName()).getAnnotation(JsonProperty.class);
            } catch (NoSuchFieldException e) {
                throw new IllegalStateException("a record component has its field", e);
            }
            String key = property != null ? property.value() : component.getName();
            fields.put(key, new Field(key, component.getGenericType()));
        }
        return java.util.Collections.unmodifiableMap(fields); // in JobSpec's order: the first of equally close keys wins
    }
}
