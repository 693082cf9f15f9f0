package dev.blivet.common;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A JSON Schema (2020-12) validator for exactly the keywords docs/jobspec.schema.json uses, so
 * that a test can hold the schema to the parser without a schema library. A keyword it does not
 * know fails loudly rather than passing silently: a new keyword in the schema needs a line here.
 */
final class MiniSchema {
    /** Keywords that only annotate: no effect on validity. */
    private static final Set<String> ANNOTATIONS = Set.of("$schema", "$id", "$defs", "title", "description", "default");

    private final JsonNode root;

    MiniSchema(JsonNode root) {
        this.root = root;
    }

    /** Every violation, each with its JSON pointer; empty when the instance is valid. */
    List<String> errors(JsonNode instance) {
        List<String> errors = new ArrayList<>();
        check(root, instance, "", errors);
        return errors;
    }

    private void check(JsonNode schema, JsonNode value, String at, List<String> errors) {
        if (schema.isBoolean()) {
            if (!schema.booleanValue()) {
                errors.add(at + ": not allowed");
            }
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> keyword = it.next();
            JsonNode arg = keyword.getValue();
            switch (keyword.getKey()) {
                case "type" -> {
                    if (!hasType(value, arg.asText())) {
                        errors.add(at + ": not of type " + arg.asText());
                    }
                }
                case "enum" -> {
                    boolean found = false;
                    for (JsonNode option : arg) {
                        found |= sameValue(option, value);
                    }
                    if (!found) {
                        errors.add(at + ": not one of " + arg);
                    }
                }
                case "const" -> {
                    if (!sameValue(arg, value)) {
                        errors.add(at + ": not " + arg);
                    }
                }
                case "pattern" -> {
                    if (value.isTextual() && !Pattern.compile(arg.asText()).matcher(value.asText()).find()) {
                        errors.add(at + ": does not match " + arg.asText());
                    }
                }
                case "minLength" -> {
                    if (value.isTextual() && value.asText().codePointCount(0, value.asText().length()) < arg.asInt()) {
                        errors.add(at + ": shorter than " + arg.asInt());
                    }
                }
                case "minimum" -> {
                    if (value.isNumber() && value.decimalValue().compareTo(arg.decimalValue()) < 0) {
                        errors.add(at + ": below " + arg);
                    }
                }
                case "maximum" -> {
                    if (value.isNumber() && value.decimalValue().compareTo(arg.decimalValue()) > 0) {
                        errors.add(at + ": above " + arg);
                    }
                }
                case "exclusiveMinimum" -> {
                    if (value.isNumber() && value.decimalValue().compareTo(arg.decimalValue()) <= 0) {
                        errors.add(at + ": not above " + arg);
                    }
                }
                case "minItems" -> {
                    if (value.isArray() && value.size() < arg.asInt()) {
                        errors.add(at + ": fewer than " + arg.asInt() + " items");
                    }
                }
                case "prefixItems" -> {
                    for (int i = 0; value.isArray() && i < Math.min(arg.size(), value.size()); i++) {
                        check(arg.get(i), value.get(i), at + "/" + i, errors);
                    }
                }
                case "items" -> {
                    int first = schema.has("prefixItems") ? schema.get("prefixItems").size() : 0;
                    for (int i = first; value.isArray() && i < value.size(); i++) {
                        check(arg, value.get(i), at + "/" + i, errors);
                    }
                }
                case "required" -> {
                    for (JsonNode name : arg) {
                        if (value.isObject() && !value.has(name.asText())) {
                            errors.add(at + ": missing " + name.asText());
                        }
                    }
                }
                case "properties" -> {
                    for (Iterator<String> names = arg.fieldNames(); value.isObject() && names.hasNext(); ) {
                        String name = names.next();
                        if (value.has(name)) {
                            check(arg.get(name), value.get(name), at + "/" + name, errors);
                        }
                    }
                }
                case "additionalProperties" -> {
                    JsonNode declared = schema.path("properties");
                    for (Iterator<String> names = value.fieldNames(); value.isObject() && names.hasNext(); ) {
                        String name = names.next();
                        if (!declared.has(name)) {
                            check(arg, value.get(name), at + "/" + name, errors);
                        }
                    }
                }
                case "propertyNames" -> {
                    for (Iterator<String> names = value.fieldNames(); value.isObject() && names.hasNext(); ) {
                        String name = names.next();
                        check(arg, com.fasterxml.jackson.databind.node.TextNode.valueOf(name), at + "/" + name, errors);
                    }
                }
                case "dependentSchemas" -> {
                    for (Iterator<String> names = arg.fieldNames(); value.isObject() && names.hasNext(); ) {
                        String name = names.next();
                        if (value.has(name)) {
                            check(arg.get(name), value, at, errors);
                        }
                    }
                }
                case "anyOf" -> {
                    List<String> all = new ArrayList<>();
                    boolean any = false;
                    for (JsonNode option : arg) {
                        List<String> mine = new ArrayList<>();
                        check(option, value, at, mine);
                        any |= mine.isEmpty();
                        all.addAll(mine);
                    }
                    if (!any) {
                        errors.add(at + ": matches none of anyOf " + all);
                    }
                }
                case "not" -> {
                    List<String> mine = new ArrayList<>();
                    check(arg, value, at, mine);
                    if (mine.isEmpty()) {
                        errors.add(at + ": matches " + arg + ", which is not allowed");
                    }
                }
                case "$ref" -> check(resolve(arg.asText()), value, at, errors);
                default -> {
                    if (!ANNOTATIONS.contains(keyword.getKey())) {
                        throw new IllegalStateException("MiniSchema does not know the keyword " + keyword.getKey());
                    }
                }
            }
        }
    }

    private JsonNode resolve(String ref) {
        if (!ref.startsWith("#/")) {
            throw new IllegalStateException("only local $refs: " + ref);
        }
        JsonNode target = root.at(ref.substring(1));
        if (target.isMissingNode()) {
            throw new IllegalStateException("no such $ref: " + ref);
        }
        return target;
    }

    private static boolean hasType(JsonNode value, String type) {
        return switch (type) {
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            case "string" -> value.isTextual();
            case "boolean" -> value.isBoolean();
            case "null" -> value.isNull();
            case "number" -> value.isNumber();
            case "integer" -> value.isIntegralNumber()
                    || (value.isNumber() && value.decimalValue().stripTrailingZeros().scale() <= 0);
            default -> throw new IllegalStateException("unknown type " + type);
        };
    }

    private static boolean sameValue(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        return a.equals(b);
    }
}
