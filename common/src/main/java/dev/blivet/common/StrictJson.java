package dev.blivet.common;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one JSON reader for everything that comes in from outside: protocol requests and replies,
 * job specs inline and in files. One document and nothing after it; a duplicate key is an error
 * (which of two "user" keys was meant?); and hard limits on size, nesting, string and number
 * length, and token count, so that what a document costs to hold is bounded before it is read.
 *
 * <p>Jackson's {@link StreamReadConstraints} bound nesting, string, number and document length,
 * but not the number of tokens, which is what a tree's size follows ({@code [{},{},...]} costs
 * about 40 bytes of heap per input byte): this reader counts tokens as it builds the tree and
 * stops at the limit. It uses no ObjectMapper (blivetctl starts faster without one), does not
 * intern or canonicalize field names (a client could fill a shared symbol table), and keeps no
 * buffers between documents (a recycled text buffer would stay with each client thread).
 */
public final class StrictJson {
    /**
     * Bounds on one document.
     *
     * @param maxBytes the document's length in bytes (UTF-8)
     * @param maxTokens tokens (every brace, bracket, key and value counts one)
     * @param maxDepth nesting of objects and arrays; a top-level object is depth 1
     * @param maxNumberChars digits (and sign, point, exponent) of one number
     */
    public record Limits(int maxBytes, int maxTokens, int maxDepth, int maxNumberChars) {
        /** A limit of every bound but the nesting: replies of a daemon the client chose to trust. */
        public static Limits depthOnly(int maxDepth) {
            return new Limits(Integer.MAX_VALUE, Integer.MAX_VALUE, maxDepth, 1000);
        }
    }

    /** A document went past one of the {@link Limits}; the message names the limit. */
    public static final class LimitException extends JsonProcessingException {
        private static final long serialVersionUID = 1L;

        LimitException(String message) {
            super(message);
        }
    }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final Limits limits;
    private final JsonFactory factory;

    public StrictJson(Limits limits) {
        this.limits = limits;
        this.factory = JsonFactory.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
                .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
                .recyclerPool(JsonRecyclerPools.nonRecyclingPool())
                .streamReadConstraints(StreamReadConstraints.builder()
                        // Our own depth check comes first and names the limit; Jackson's is the backstop.
                        .maxNestingDepth(limits.maxDepth() + 1)
                        .maxStringLength(limits.maxBytes())
                        .maxNumberLength(limits.maxNumberChars())
                        .maxDocumentLength(limits.maxBytes() == Integer.MAX_VALUE ? -1 : limits.maxBytes())
                        .build())
                .build();
    }

    public Limits limits() {
        return limits;
    }

    /** One JSON value in {@code length} bytes of UTF-8, and nothing after it. */
    public JsonNode parse(byte[] bytes, int offset, int length) throws JsonProcessingException {
        if (length > limits.maxBytes()) {
            throw tooLong();
        }
        try (JsonParser parser = factory.createParser(bytes, offset, length)) {
            return parse(parser);
        } catch (JsonProcessingException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException("reading a byte array", e);
        }
    }

    public JsonNode parse(byte[] bytes) throws JsonProcessingException {
        return parse(bytes, 0, bytes.length);
    }

    public JsonNode parse(String text) throws JsonProcessingException {
        return parse(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads a file of at most {@link Limits#maxBytes} bytes: a longer one is refused without
     * reading more than one byte past the limit.
     */
    public byte[] readFile(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(limits.maxBytes() == Integer.MAX_VALUE ? Integer.MAX_VALUE - 8
                    : limits.maxBytes() + 1);
            if (bytes.length > limits.maxBytes()) {
                throw tooLong();
            }
            return bytes;
        }
    }

    /**
     * Checks a tree that came inside a larger document (a spec inside its start request) against
     * these limits' token count and nesting, so that it passes here exactly when its text would
     * pass {@link #parse}. Its length in bytes is bounded only by the enclosing document's.
     */
    public void checkTree(JsonNode tree) throws LimitException {
        if (tokens(tree, 1) > limits.maxTokens()) {
            throw new LimitException("more than " + limits.maxTokens() + " JSON tokens (the limit)");
        }
    }

    /** Tokens of the text of {@code node}, which sits at {@code depth} (1 for the top). */
    private int tokens(JsonNode node, int depth) throws LimitException {
        if (!node.isContainerNode()) {
            return 1;
        }
        if (depth > limits.maxDepth()) {
            throw new LimitException(nestedTooDeep());
        }
        int count = 2; // its braces or brackets
        for (var fields = node.fields(); fields.hasNext();) {
            count += 1 + tokens(fields.next().getValue(), depth + 1);
        }
        if (node.isArray()) {
            for (JsonNode element : node) {
                count += tokens(element, depth + 1);
            }
        }
        return count;
    }

    private LimitException tooLong() {
        return new LimitException("longer than " + limits.maxBytes() + " bytes (the limit)");
    }

    private JsonNode parse(JsonParser parser) throws IOException {
        try {
            Reader reader = new Reader(parser);
            JsonToken first = reader.next();
            if (first == null) {
                throw new JsonParseException(parser, "no JSON value");
            }
            JsonNode value = reader.read(first, 0);
            if (parser.nextToken() != null) {
                throw new JsonParseException(parser, "trailing content after the JSON value");
            }
            return value;
        } catch (StreamConstraintsException e) {
            throw new LimitException(describe(e.getOriginalMessage()));
        }
    }

    /** Jackson's wording names its own getter; ours names the limit a client can look up. */
    private String describe(String jackson) {
        if (jackson.startsWith("String value length")) {
            return "a string longer than " + limits.maxBytes() + " characters (the limit)";
        }
        if (jackson.startsWith("Number value length") || jackson.startsWith("Number length")) {
            return "a number longer than " + limits.maxNumberChars() + " characters (the limit)";
        }
        if (jackson.startsWith("Document nesting depth")) {
            return nestedTooDeep();
        }
        if (jackson.startsWith("Document length")) {
            return tooLong().getMessage();
        }
        return jackson;
    }

    private String nestedTooDeep() {
        return "nested deeper than " + limits.maxDepth() + " levels (the limit)";
    }

    /** One document's walk: the token count lives here, not in the shared reader. */
    private final class Reader {
        private final JsonParser parser;
        private int tokens;

        Reader(JsonParser parser) {
            this.parser = parser;
        }

        JsonToken next() throws IOException {
            JsonToken token = parser.nextToken();
            if (token != null && ++tokens > limits.maxTokens()) {
                throw new LimitException("more than " + limits.maxTokens() + " JSON tokens (the limit)");
            }
            return token;
        }

        /** Recursion is bounded by maxDepth, checked before each level is entered. */
        JsonNode read(JsonToken token, int depth) throws IOException {
            switch (token) {
                case START_OBJECT: {
                    enter(depth);
                    ObjectNode object = NODES.objectNode();
                    JsonToken next;
                    while ((next = next()) == JsonToken.FIELD_NAME) {
                        String name = parser.currentName();
                        object.set(name, read(next(), depth + 1));
                    }
                    return object;
                }
                case START_ARRAY: {
                    enter(depth);
                    ArrayNode array = NODES.arrayNode();
                    JsonToken next;
                    while ((next = next()) != JsonToken.END_ARRAY) {
                        array.add(read(next, depth + 1));
                    }
                    return array;
                }
                case VALUE_STRING:
                    return NODES.textNode(parser.getText());
                case VALUE_NUMBER_INT:
                    switch (parser.getNumberType()) {
                        case INT:
                            return NODES.numberNode(parser.getIntValue());
                        case LONG:
                            return NODES.numberNode(parser.getLongValue());
                        default:
                            return NODES.numberNode(parser.getBigIntegerValue());
                    }
                case VALUE_NUMBER_FLOAT:
                    return NODES.numberNode(parser.getDoubleValue());
                case VALUE_TRUE:
                    return NODES.booleanNode(true);
                case VALUE_FALSE:
                    return NODES.booleanNode(false);
                case VALUE_NULL:
                    return NODES.nullNode();
                default:
                    throw new JsonParseException(parser, "unexpected " + token);
            }
        }

        private void enter(int depth) throws LimitException {
            if (depth + 1 > limits.maxDepth()) {
                throw new LimitException(nestedTooDeep());
            }
        }
    }
}
