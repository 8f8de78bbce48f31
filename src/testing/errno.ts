/** A platform-shaped error (`code`, `syscall`, `path`), as node:fs throws, for the simulated disk's failures. */
export function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${syscall} '${path}' (simulated disk)`) as NodeJS.ErrnoException;
  error.code = code;
  error.syscall = syscall;
  error.path = path;
  return error;
}
