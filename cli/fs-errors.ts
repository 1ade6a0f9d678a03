// The file system's refusals (a folder where a file is expected, a missing file, a read-only
// folder, a full disk) are the user's to fix: one line naming the path and what is wrong, never
// Node's stack trace. main.ts routes every such error that a command does not catch through here.

interface NodeSystemError extends Error {
  readonly code: string;
  readonly path?: string;
  readonly dest?: string;
  readonly syscall?: string;
}

function isSystemError(e: unknown): e is NodeSystemError {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

const WRITES = new Set(['open', 'write', 'rename', 'mkdir', 'unlink', 'rmdir', 'copyfile', 'symlink']);

/** One line for a file-system error, or undefined when `e` is not one. */
export function describeFsError(e: unknown): string | undefined {
  if (!isSystemError(e)) return undefined;
  const path = e.dest ?? e.path ?? '(unknown path)';
  switch (e.code) {
    case 'ENOENT':
      return `cannot read ${e.path ?? path}: no such file or folder`;
    case 'EISDIR':
      return `${path} is a folder; a file is expected here`;
    case 'ENOTDIR':
      return `${path}: a part of this path is a file, not a folder`;
    case 'EEXIST':
      return `${path} already exists`;
    case 'EACCES':
    case 'EPERM':
      return `cannot ${e.syscall && WRITES.has(e.syscall) ? 'write' : 'read'} ${path}: permission denied`;
    case 'EROFS':
      return `cannot write ${path}: the file system is read-only`;
    case 'ENOSPC':
      return `cannot write ${path}: the disk is full`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files (at ${path}); raise the limit with ulimit -n`;
    case 'ENAMETOOLONG':
      return `the path is too long: ${path.slice(0, 80)}...`;
    default:
      return undefined;
  }
}
