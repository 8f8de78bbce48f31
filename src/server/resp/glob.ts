/**
 * Redis's glob-style patterns (util.c, stringmatchlen) for KEYS and SCAN MATCH, case-sensitive
 * and binary-safe: both pattern and subject are latin1 strings, one char per byte.
 *
 *   `*` any run of bytes, `?` one byte, `[abc]` one of, `[^abc]` none of, `[a-z]` a range
 *   (either order), `\x` the byte x itself (inside brackets too).
 *
 * Redis's quirks are kept, since clients rely on whatever Redis answers: an unterminated `[`
 * class ends at the pattern's end; `[a-]` is the range from `a` to `]`; a range compares bytes
 * as C's signed char does, so bytes 0x80-0xff sort below 0x00 there. Positions past the end of
 * the pattern read as 0, as the NUL after Redis's sds string does.
 */

/**
 * Nested `*` (each one a level of recursion) beyond which a pattern matches nothing, as later
 * Redis versions do: it bounds the stack a pattern can take.
 */
export const GLOB_NESTING_MAX = 1000;

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const BACKSLASH = 0x5c;
const DASH = 0x2d;

/**
 * Whether `subject` matches `pattern`; `noCase` folds ASCII letters as Redis's nocase mode does
 * (CONFIG GET), except for a `\x` inside brackets, which it compares as it is. A lone `*` matches
 * everything, the empty text too (as KEYS and SCAN treat it).
 */
export function globMatch(pattern: string, subject: string, noCase = false): boolean {
  if (pattern.length === 1 && pattern.charCodeAt(0) === STAR) return true;
  return new Matcher(pattern, subject, noCase).match(0, 0, 0);
}

/**
 * The bytes every key a pattern matches starts with (up to its first special character), so a
 * search can seek straight to them instead of testing every key.
 */
export function literalPrefix(pattern: string): string {
  let end = 0;
  while (end < pattern.length) {
    const c = pattern.charCodeAt(end);
    if (c === STAR || c === QUESTION || c === OPEN || c === BACKSLASH) break;
    end++;
  }
  return pattern.slice(0, end);
}

/** A byte as C's signed char: what Redis's range test compares. */
function signedByte(c: number): number {
  return c >= 0x80 ? c - 0x100 : c;
}

/** C's tolower in the C locale: ASCII letters only. */
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** glibc's tolower of a signed char: a negative one other than -1 (EOF) comes back as its unsigned byte. */
function lowerSigned(c: number): number {
  return c < -1 ? c + 0x100 : lower(c);
}

class Matcher {
  /** Set once the rest of a pattern after a `*` matched nowhere: earlier `*`s need not try longer runs. */
  private skipLongerMatches = false;

  constructor(
    private readonly pattern: string,
    private readonly subject: string,
    private readonly noCase: boolean,
  ) {}

  private same(a: number, b: number): boolean {
    return a === b || (this.noCase && lower(a) === lower(b));
  }

  /** The pattern's byte at `i`; 0 past its end. */
  private p(i: number): number {
    return i < this.pattern.length ? this.pattern.charCodeAt(i) : 0;
  }

  /** Whether pattern[pi..] matches subject[si..]; `nesting` counts the `*`s this call is inside. */
  match(start: number, from: number, nesting: number): boolean {
    if (nesting > GLOB_NESTING_MAX) return false;
    const subject = this.subject;
    const patternEnd = this.pattern.length;
    let pi = start;
    let si = from;
    while (pi < patternEnd && si < subject.length) {
      const c = this.p(pi);
      if (c === STAR) {
        while (pi + 1 < patternEnd && this.p(pi + 1) === STAR) pi++;
        if (pi + 1 === patternEnd) return true;
        for (; si < subject.length; si++) {
          if (this.match(pi + 1, si, nesting + 1)) return true;
          if (this.skipLongerMatches) return false;
        }
        this.skipLongerMatches = true;
        return false;
      }
      if (c === OPEN) {
        const end = this.matchClass(pi + 1, subject.charCodeAt(si));
        if (end < 0) return false;
        pi = end;
      } else if (c !== QUESTION) {
        if (c === BACKSLASH && pi + 1 < patternEnd) pi++;
        if (!this.same(this.p(pi), subject.charCodeAt(si))) return false;
      }
      si++;
      pi++;
      if (si === subject.length) {
        while (this.p(pi) === STAR) pi++;
        break;
      }
    }
    return pi === patternEnd && si === subject.length;
  }

  /**
   * Matches byte `s` against the class whose body starts at `start` (after `[`): the position of
   * its closing `]` (or of the pattern's last byte when it has none) on a match, else -1.
   */
  private matchClass(start: number, s: number): number {
    const patternEnd = this.pattern.length;
    let pi = start;
    const not = this.p(pi) === CARET;
    if (not) pi++;
    let match = false;
    for (;;) {
      const c = this.p(pi);
      if (c === BACKSLASH && patternEnd - pi >= 2) {
        pi++;
        if (this.p(pi) === s) match = true;
      } else if (c === CLOSE) {
        break;
      } else if (pi >= patternEnd) {
        pi--;
        break;
      } else if (patternEnd - pi >= 3 && this.p(pi + 1) === DASH) {
        let low = signedByte(c);
        let high = signedByte(this.p(pi + 2));
        if (low > high) [low, high] = [high, low];
        let byte = signedByte(s);
        if (this.noCase) [low, high, byte] = [lowerSigned(low), lowerSigned(high), lowerSigned(byte)];
        if (byte >= low && byte <= high) match = true;
        pi += 2;
      } else if (this.same(c, s)) {
        match = true;
      }
      pi++;
    }
    return match !== not ? pi : -1;
  }
}
