/**
 * LangGraph.js on AIMemo: {@link AIMemoStore}, a `BaseStore` whose items
 * live in an AIMemo store (SQLite or PostgreSQL) and whose `search` is
 * AIMemo's full-text search. Needs the optional peer dependency
 * `@langchain/langgraph-checkpoint`. See docs/langgraph.md.
 *
 * @packageDocumentation
 * @module aimemo/langgraph
 */
export { AIMemoStore, NO_TEXT, type AIMemoStoreOptions } from './store';
export { searchText } from './text';
