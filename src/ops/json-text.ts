/**
 * JSON text for values that may be nested deeper than the call stack allows.
 *
 * `save` refuses metadata nested more than 64 deep, but a database may hold
 * deeper values written before that limit, or by other means. `JSON.parse`
 * reads any depth (V8's parser keeps its own stack), while `JSON.stringify`
 * recurses and throws `RangeError` at a few thousand levels: one such memory
 * would stop every export, checksum and transfer of its namespace. These
 * functions use the native serializer and fall back to an iterative one,
 * which writes exactly the same text.
 */
import type { Json } from '../types';

/** `JSON.stringify(value)` for JSON values, at any depth. */
export function jsonText(value: Json, sortKeys = false): string {
  if (!sortKeys) {
    try {
      return JSON.stringify(value);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  }
  return iterativeJson(value, sortKeys);
}

interface Frame {
  value: Json[] | { [k: string]: Json };
  keys: string[] | undefined;
  next: number;
}

/** The same text as `JSON.stringify`, built with an explicit stack; object keys sorted when asked. */
function iterativeJson(root: Json, sortKeys: boolean): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const open = (value: Json): void => {
    if (value === null || typeof value !== 'object') {
      out.push(JSON.stringify(value));
      return;
    }
    if (Array.isArray(value)) {
      out.push('[');
      stack.push({ value, keys: undefined, next: 0 });
      return;
    }
    let keys = Object.keys(value).filter((k) => value[k] !== undefined);
    // Sorted as checksum.ts's recursive sortKeys leaves them: an object built in sorted order still lists
    // integer-like keys first, in numeric order (JavaScript's property order), and JSON.stringify follows it.
    if (sortKeys) keys = Object.keys(Object.fromEntries(keys.sort().map((k) => [k, true])));
    out.push('{');
    stack.push({ value, keys, next: 0 });
  };
  open(root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.keys === undefined) {
      const items = frame.value as Json[];
      if (frame.next >= items.length) {
        out.push(']');
        stack.pop();
        continue;
      }
      if (frame.next > 0) out.push(',');
      const item = items[frame.next++];
      open(item === undefined ? null : item);
    } else {
      if (frame.next >= frame.keys.length) {
        out.push('}');
        stack.pop();
        continue;
      }
      const key = frame.keys[frame.next++];
      out.push(`${frame.next > 1 ? ',' : ''}${JSON.stringify(key)}:`);
      open((frame.value as { [k: string]: Json })[key]);
    }
  }
  return out.join('');
}
