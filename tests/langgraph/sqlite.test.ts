/** LangGraph's store expectations on AIMemoStore over SQLite (in memory). */
import { SQLiteStore } from '../../src';
import { describeLangGraphStore } from './suite';

describeLangGraphStore({ name: 'AIMemoStore(SQLite)', create: async () => new SQLiteStore(':memory:') });
