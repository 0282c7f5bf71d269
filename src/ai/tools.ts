/**
 * `remember` and `recall` as AI SDK tools over an {@link AIMemo}: zod input
 * schemas (the model sees their descriptions), `execute` functions that call
 * the facade, and plain JSON results the model reads back.
 */
import { tool, type Tool } from 'ai';
import { z } from 'zod';
import type { AIMemo } from '../aimemo';
import { ValidationError } from '../errors';
import { describe, LIMITS, validateLimit } from '../validate';

/** What the model passes to `remember`. */
export interface RememberInput {
  /** The fact to keep, as a self-contained sentence. */
  content: string;
  /** Optional labels to group memories by. */
  tags?: string[];
}

/** What `remember` returns to the model. */
export interface RememberOutput {
  id: string;
  saved: true;
}

/** What the model passes to `recall`. */
export interface RecallInput {
  /** What to look for, in the user's words. */
  query: string;
  /** How many memories at most. */
  limit?: number;
}

/** What `recall` returns to the model: the best matches first. */
export interface RecallOutput {
  memories: { id: string; content: string; tags: string[]; savedAt: string; score: number }[];
}

/**
 * The tools {@link memoryTools} returns, keyed by the names the model calls
 * them by. A type alias, not an interface, so it is assignable to the AI
 * SDK's `ToolSet` (an index signature).
 */
export type MemoryTools = {
  remember: Tool<RememberInput, RememberOutput>;
  recall: Tool<RecallInput, RecallOutput>;
};

/** Options of {@link memoryTools}. */
export interface MemoryToolsOptions {
  /** Most memories `recall` returns (the model may ask for fewer). @defaultValue 5 */
  maxRecall?: number;
}

/** Most memories a `recall` may ever return. */
const MAX_RECALL = 50;

/**
 * `remember` and `recall` tools over one AIMemo namespace (the facade's),
 * for `generateText({ tools: memoryTools(memo) })`. `recall` ranks with
 * `search(query, { mode: 'any' })`, made for natural-language questions.
 *
 * @throws ValidationError when `memo` is not an AIMemo or `maxRecall` is not 1-50.
 * @example
 * import { generateText, stepCountIs } from 'ai';
 * import { AIMemo } from 'aimemo';
 * import { memoryTools } from 'aimemo/ai';
 * const memo = new AIMemo({ namespace: 'user_123' });
 * const { text } = await generateText({ model, tools: memoryTools(memo), stopWhen: stepCountIs(5), prompt });
 */
export function memoryTools(memo: AIMemo, options: MemoryToolsOptions = {}): MemoryTools {
  if (!memo || typeof memo.add !== 'function' || typeof memo.search !== 'function') {
    throw new ValidationError('memo', 'must be an AIMemo (new AIMemo({ store, namespace }))', describe(memo));
  }
  const maxRecall = validateLimit(options?.maxRecall, 'options.maxRecall', 5, MAX_RECALL)!;

  const remember = tool<RememberInput, RememberOutput>({
    description:
      'Save a fact about the user or the conversation for later (a preference, a decision, a detail worth keeping). ' +
      'Write it as one self-contained sentence.',
    inputSchema: z.object({
      content: z.string().trim().min(1).max(LIMITS.contentChars).describe('The fact to remember, as a self-contained sentence.'),
      tags: z.array(z.string().trim().min(1).max(LIMITS.tagChars)).max(LIMITS.tags).optional().describe('Optional labels, e.g. ["preference"].'),
    }),
    execute: async ({ content, tags }) => {
      const memory = await memo.add(content, tags ? { tags } : {});
      return { id: memory.id, saved: true };
    },
  });

  const recall = tool<RecallInput, RecallOutput>({
    description: 'Look up saved memories relevant to a question or topic. Returns the best matches first, with when each was saved.',
    inputSchema: z.object({
      query: z.string().describe('What to look for, in plain words.'),
      limit: z.number().int().min(1).max(maxRecall).optional().describe(`How many memories at most (default and maximum ${maxRecall}).`),
    }),
    execute: async ({ query, limit }) => {
      const hits = await memo.search(query, { mode: 'any', limit: Math.min(limit ?? maxRecall, maxRecall) });
      return { memories: hits.map((m) => ({ id: m.id, content: m.content, tags: m.tags, savedAt: m.timestamp.toISOString(), score: Number(m.score.toFixed(4)) })) };
    },
  });

  return { remember, recall };
}
