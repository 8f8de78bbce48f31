/**
 * Deliberate bugs, for proving that the crash simulation catches what it claims to (issue
 * "Crash simulation": keep broken variants as tests). Each flag re-creates one class of bug
 * that has lost data in real databases. They are read at one spot each in the log and the
 * store, and only sim/ and test/ ever set them; a process that does not is unaffected.
 */
export const breakage = {
  /** A checkpoint frees the log below it before its manifest is durable. */
  freeLogBeforeManifest: false,
};
