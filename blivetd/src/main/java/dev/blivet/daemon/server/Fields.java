package dev.blivet.daemon.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.protocol.ErrorCode;
import java.time.Duration;

/** Typed access to request fields; a wrong or missing one is a bad_request that names it. */
final class Fields {
    private static final double MAX_SECONDS = dev.blivet.common.Defaults.MAX_SECONDS;

    private Fields() {
    }

    static String name(ObjectNode request) {
        return text(request, "name");
    }

    static String text(ObjectNode request, String field) {
        JsonNode node = request.get(field);
        if (node == null || !node.isTextual() || node.asText().isEmpty()) {
            throw new RequestException(ErrorCode.BAD_REQUEST, "'" + field + "' is required and must be a non-empty string");
        }
        return node.asText();
    }

    static boolean bool(ObjectNode request, String field, boolean fallback) {
        JsonNode node = request.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isBoolean()) {
            throw new RequestException(ErrorCode.BAD_REQUEST, "'" + field + "' must be true or false");
        }
        return node.asBoolean();
    }

    static int integer(ObjectNode request, String field, int fallback, int min, int max) {
        JsonNode node = request.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.canConvertToExactIntegral() || !node.canConvertToInt() || node.asInt() < min || node.asInt() > max) {
            throw new RequestException(ErrorCode.BAD_REQUEST, "'" + field + "' must be an integer from " + min + " to " + max);
        }
        return node.asInt();
    }

    /** A number of seconds, fractions allowed, up to a day. */
    static Duration seconds(ObjectNode request, String field, Duration fallback) {
        JsonNode node = request.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isNumber() || node.asDouble() < 0 || node.asDouble() > MAX_SECONDS) {
            throw new RequestException(ErrorCode.BAD_REQUEST, "'" + field + "' must be a number of seconds from 0 to "
                    + (long) MAX_SECONDS);
        }
        return Duration.ofNanos(Math.round(node.asDouble() * 1e9));
    }
}
