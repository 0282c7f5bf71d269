import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A new empty directory under the system temp dir; remove it with `cleanup()`. */
export function tempDir(label: string): { dir: string; file(name: string): string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `aimemo-${label}-`));
  return {
    dir,
    file: (name) => path.join(dir, name),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

let counter = 0;
/** A namespace no other test uses. */
export function uniqueNamespace(label = 'ns'): string {
  counter += 1;
  return `${label}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}
