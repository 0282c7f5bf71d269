/**
 * Lines of an import, read in linear time and bounded memory.
 *
 * The input is split on the byte `\n` (a `\r` before it is dropped later),
 * never on U+2028 or a lone `\r`, which JSON strings may hold. A line is
 * gathered as the chunks it spans and joined once, so reading is linear
 * however long it is; a line longer than {@link MAX_LINE_BYTES} is not
 * gathered at all: its bytes are counted and dropped, and it comes out as
 * `{ tooLong: true }`. Each line is decoded as strict UTF-8: bytes that are
 * not UTF-8 come out as `{ notUtf8: true }`, never as U+FFFD in place of the
 * data.
 */

/**
 * Longest line an import reads, in bytes. The longest memory AIMemo's export
 * writes is under 1 MiB (100,000 characters of content, 64 KiB of metadata,
 * 100 tags of 255 characters, every character escaped); the rest is slack
 * for files written by other tools.
 */
export const MAX_LINE_BYTES = 2 * 2 ** 20;

/** One line: its 1-based number and its text, or why it has none. */
export type Line = { number: number; text: string } | { number: number; tooLong: true; bytes: number } | { number: number; notUtf8: true };

const NEWLINE = 0x0a;

/** Splits bytes into {@link Line}s. */
export async function* linesOf(chunks: AsyncIterable<Buffer>, maxBytes = MAX_LINE_BYTES): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let parts: Buffer[] = [];
  let size = 0;
  let number = 0;
  const finish = (): Line => {
    number++;
    if (size > maxBytes) return { number, tooLong: true, bytes: size };
    const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
    try {
      return { number, text: decoder.decode(bytes) };
    } catch {
      return { number, notUtf8: true };
    }
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); ; nl = chunk.indexOf(NEWLINE, start)) {
      const end = nl < 0 ? chunk.length : nl;
      size += end - start;
      if (size <= maxBytes && end > start) parts.push(chunk.subarray(start, end));
      else if (size > maxBytes) parts = []; // too long: count the rest, keep none of it
      if (nl < 0) break;
      yield finish();
      parts = [];
      size = 0;
      start = nl + 1;
    }
  }
  if (size > 0) yield finish();
}
