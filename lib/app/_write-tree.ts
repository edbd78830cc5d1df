import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Write `files` as the complete new content of `outdir`, atomically enough for a build tool: the
 * files go to a sibling staging directory first, then the old directory is swapped out. A failure
 * before the swap leaves `outdir` exactly as it was.
 */
export function writeTreeAtomically(outdir: string, files: Map<string, string>): void {
  writeTreeStaged(outdir, (stage) => {
    for (const [rel, content] of files) stage.writeFile(rel, content);
  });
}

/** The staging directory of writeTreeStaged, filled one file at a time. */
export interface TreeStage {
  /** Write a file of the new tree: its content, or its pieces in order (each written as it comes). */
  writeFile(rel: string, content: string | Iterable<string>): void;
}

/**
 * writeTreeAtomically for content produced while it is written: `fill` writes the files into the
 * staging directory (a large one piece by piece, never held whole), then the staging directory is
 * swapped in. When `fill` throws, the staging directory is removed and `outdir` left as it was.
 */
export function writeTreeStaged(outdir: string, fill: (stage: TreeStage) => void): void {
  const target = path.resolve(outdir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.staging-`));
  try {
    fill({
      writeFile: (rel, content) => {
        const file = path.join(staging, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        writeFile(file, typeof content === 'string' ? [content] : content, rel.endsWith('.sh') ? 0o755 : 0o644);
      },
    });
    // Directories from mkdtemp are 0700; the output is meant to be read by other tools and users.
    fs.chmodSync(staging, 0o755);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  const old = fs.existsSync(target) ? `${staging}.old` : undefined;
  if (old) fs.renameSync(target, old);
  try {
    fs.renameSync(staging, target);
  } catch (e) {
    if (old) fs.renameSync(old, target);
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  if (old) fs.rmSync(old, { recursive: true, force: true });
}

/** Large files are written a slice at a time: writeFileSync would first encode all of it into one Buffer. */
const WRITE_SLICE = 1 << 20;

/**
 * The pieces of a file, in order, each encoded and written as it comes; a large piece a slice at a
 * time (writeFileSync would first encode all of it into one Buffer).
 */
function writeFile(file: string, pieces: Iterable<string>, mode: number): void {
  const fd = fs.openSync(file, 'w', mode);
  try {
    for (const piece of pieces) {
      for (let start = 0; start < piece.length; ) {
        let end = Math.min(start + WRITE_SLICE, piece.length);
        // Never between the two halves of a surrogate pair (each alone would be written as U+FFFD).
        if (end < piece.length && isHighSurrogate(piece.charCodeAt(end - 1))) end--;
        const bytes = Buffer.from(start === 0 && end === piece.length ? piece : piece.slice(start, end), 'utf8');
        for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off);
        start = end;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
