/**
 * Memory tools for the Vercel AI SDK: `memoryTools(memo)` returns
 * `remember` and `recall`, tools an agent built with `generateText` or
 * `streamText` calls to save and find memories in one AIMemo namespace.
 * Needs the optional peer dependencies `ai` (5 or later) and `zod`.
 * See docs/ai-sdk.md.
 *
 * @packageDocumentation
 * @module aimemo/ai
 */
export { memoryTools, type MemoryTools, type MemoryToolsOptions, type RecallInput, type RecallOutput, type RememberInput, type RememberOutput } from './tools';
