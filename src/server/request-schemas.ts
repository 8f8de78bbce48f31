/**
 * The shapes of the requests the key-value routes accept, checked as sent. A value of the
 * wrong JSON type is refused with a 400, never converted: Fastify's own validator would turn
 * `"key": 1` into "1" and `"ifVersion": null` into 0 (create-only), so these schemas are
 * checked here rather than handed to it.
 *
 * Query strings arrive as strings (or lists of strings, for a repeated name); the list
 * route's numbers and booleans are parsed from them by `parseListQuery`, in one spelling each.
 */
import Type from "typebox";
import Compile from "typebox/compile";
import { HttpError } from "./http-error.js";

const Version = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

const BatchSchema = Type.Object(
  {
    operations: Type.Array(
      Type.Union([
        Type.Object(
          {
            type: Type.Literal("put"),
            key: Type.String({ minLength: 1 }),
            value: Type.Unknown(),
            ifVersion: Type.Optional(Version),
          },
          { additionalProperties: false },
        ),
        Type.Object(
          {
            type: Type.Literal("delete"),
            key: Type.String({ minLength: 1 }),
            ifVersion: Type.Optional(Version),
          },
          { additionalProperties: false },
        ),
      ]),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);

export type BatchBody = {
  operations: (
    | { type: "put"; key: string; value: unknown; ifVersion?: number }
    | { type: "delete"; key: string; ifVersion?: number }
  )[];
};

const ListQuerySchema = Type.Object(
  {
    prefix: Type.Optional(Type.String()),
    start: Type.Optional(Type.String()),
    end: Type.Optional(Type.String()),
    limit: Type.Optional(Type.String()),
    reverse: Type.Optional(Type.String()),
    cursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export type ListQuery = { prefix?: string; start?: string; end?: string; limit?: number; reverse?: boolean; cursor?: string };

const batchValidator = Compile(BatchSchema);
const listQueryValidator = Compile(ListQuerySchema);

/** A batch body, or a 400 naming the first place it differs from the schema. */
export function parseBatchBody(body: unknown): BatchBody {
  if (body === undefined) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "the body must be a JSON object with operations");
  if (batchValidator.Check(body)) {
    // A put's value is required: the schema's Unknown admits undefined, which JSON cannot hold.
    for (const op of body.operations) {
      if (op.type === "put" && !("value" in op)) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "a put needs a value");
    }
    return body as BatchBody;
  }
  throw new HttpError(400, "LOGBOOK_BAD_REQUEST", describeFirstError("body", batchValidator.Errors(body)));
}

/** Digits only, no sign, no leading zero: `0x10`, `1e3`, ` 5` and `5.0` are not a limit. */
const LIMIT_PATTERN = /^[1-9][0-9]{0,15}$/;

/** The list route's query string, its limit and reverse parsed, or a 400. */
export function parseListQuery(query: unknown): ListQuery {
  if (!listQueryValidator.Check(query)) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", describeFirstError("querystring", listQueryValidator.Errors(query)));
  }
  const { limit, reverse, ...strings } = query;
  const parsed: ListQuery = { ...strings };
  if (limit !== undefined) {
    if (!LIMIT_PATTERN.test(limit) || !Number.isSafeInteger(Number(limit))) {
      throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "limit must be a whole number of at least 1, in decimal digits");
    }
    parsed.limit = Number(limit);
  }
  if (reverse !== undefined) {
    if (reverse !== "true" && reverse !== "false")
      throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "reverse must be true or false");
    parsed.reverse = reverse === "true";
  }
  return parsed;
}

export function describeFirstError(what: string, errors: { instancePath: string; message: string }[]): string {
  const first = errors[0];
  if (first === undefined) return `the ${what} does not match its schema`;
  return `${what}${first.instancePath} ${first.message}`;
}
