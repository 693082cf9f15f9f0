package dev.blivet.ctl;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.NumberInput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.StrictJson;
import dev.blivet.common.protocol.Protocol;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * JSON in and out: {@link StrictJson} and Jackson's streaming generator, and its tree nodes, without an
 * ObjectMapper, whose set-up (serializer caches, type factory, date formats and locales) cost
 * about a third of a blivetctl run. Replies are read into trees, requests and --json output are
 * written from them.
 */
final class Json {
    private static final JsonFactory FACTORY = new JsonFactory();
    /** Reading is common's one strict reader; only writing is done here. */
    private static final StrictJson REPLIES = new StrictJson(Protocol.REPLY_LIMITS);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Json() {
    }

    static ObjectNode object() {
        return NODES.objectNode();
    }

    static ArrayNode array() {
        return NODES.arrayNode();
    }

    static ArrayNode strings(List<String> values) {
        ArrayNode array = NODES.arrayNode(values.size());
        values.forEach(array::add);
        return array;
    }

    /** A reply line of blivetd: one JSON value and nothing after it, no duplicate key. */
    static JsonNode parse(byte[] bytes, int offset, int length) throws JsonProcessingException {
        return REPLIES.parse(bytes, offset, length);
    }

    static JsonNode parse(String text) throws JsonProcessingException {
        return REPLIES.parse(text);
    }

    /**
     * Sets up the writer (its classes and buffers) ahead of the first request, which is written
     * as soon as it is connected.
     */
    static void warmUpWriter() {
        ObjectNode request = object();
        request.put("id", 0);
        request.put("op", "warm");
        write(request);
    }

    /**
     * Sets up the reader ahead of the first reply, costliest first: jackson-core's number parser,
     * whose class compiles two regexes (and so sets up the JVM's lambdas, the first time), then
     * the rest of the reader and the writer.
     */
    static void warmUpReader() {
        Numbers.warmUp();
        warmUp();
    }

    /**
     * Sets up jackson-core's number parser, which every reply with a number needs: its class
     * compiles two regexes (and so sets up the JVM's lambdas, the first time). Static, and not
     * Json's: Json's own initializer need not have run for it, so that two threads can set up
     * the two at once ({@link Ahead#whileJsonWarms}).
     */
    static final class Numbers {
        private Numbers() {
        }

        static void warmUp() {
            NumberInput.parseInt("0");
        }
    }

    /** Sets up the reader and the writer (their classes and tables) ahead of the first reply. */
    static void warmUp() {
        try {
            write(parse("{\"warm\":[1,\"up\"]}"));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the JSON reader refuses its own warm-up", e);
        }
    }

    /** The node as one line of JSON. */
    static String write(JsonNode node) {
        StringWriter text = new StringWriter();
        try (JsonGenerator generator = FACTORY.createGenerator(text)) {
            write(generator, node);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a string", e);
        }
        return text.toString();
    }

    private static void write(JsonGenerator out, JsonNode node) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT:
                out.writeStartObject();
                for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext();) {
                    Map.Entry<String, JsonNode> field = fields.next();
                    out.writeFieldName(field.getKey());
                    write(out, field.getValue());
                }
                out.writeEndObject();
                break;
            case ARRAY:
                out.writeStartArray();
                for (JsonNode element : node) {
                    write(out, element);
                }
                out.writeEndArray();
                break;
            case STRING:
                out.writeString(node.textValue());
                break;
            case NUMBER:
                if (node.isInt()) {
                    out.writeNumber(node.intValue());
                } else if (node.isLong()) {
                    out.writeNumber(node.longValue());
                } else if (node.isBigInteger()) {
                    out.writeNumber(node.bigIntegerValue());
                } else if (node.isBigDecimal()) {
                    out.writeNumber(node.decimalValue());
                } else {
                    out.writeNumber(node.doubleValue());
                }
                break;
            case BOOLEAN:
                out.writeBoolean(node.booleanValue());
                break;
            default:
                out.writeNull();
        }
    }
}
