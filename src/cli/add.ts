import type { Command } from 'commander';
import { output } from './io';
import { withStore } from './open';
import { instantOption } from './filters';
import { checkedBy, contentText, jsonObject, optionsOf, positiveInt, tagList } from './options';
import { LIMITS, validateContent, validateId, validateIsoTimestamp, validateNamespace } from '../validate';
import type { Json } from '../types';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function register(program: Command): void {
  program
    .command('add')
    .description('save one memory (content "-" reads it from stdin)')
    .argument('<content>', 'the text to remember, or - to read it from stdin', contentText)
    .option('-n, --namespace <namespace>', 'namespace (one user, agent or session)', checkedBy(validateNamespace), 'default')
    .option('-t, --tags <tags>', 'tags, comma-separated; repeatable', tagList)
    .option('-m, --metadata <json>', 'metadata as a JSON object', jsonObject)
    .option('--id <id>', 'id (saving an existing id replaces that memory); default: a new UUID v7', checkedBy(validateId))
    .option('--timestamp <iso>', 'ISO 8601 time, like 2026-01-31T09:30:00Z; default: now', checkedBy((v, f) => (validateIsoTimestamp(v, f), v)))
    .option('--ttl <seconds>', 'forget it this many seconds from now (86400: a day)', positiveInt(LIMITS.ttlSeconds))
    .option('--expires-at <time>', 'forget it at this time (ISO 8601)', instantOption())
    .addHelpText('after', '\nExample:\n  aimemo add "User prefers dark mode" -n user_123 -t preference,ui -m \'{"source":"chat"}\'')
    .action(async (content: string, _opts, command: Command) => {
      const opts = optionsOf<{ namespace: string; tags?: string[]; metadata?: Record<string, Json>; id?: string; timestamp?: string; ttl?: number; expiresAt?: Date }>(command);
      const text = content === '-' ? validateContent(await readStdin(), 'content') : content; // checked before the database is opened
      const timestamp = opts.timestamp === undefined ? undefined : validateIsoTimestamp(opts.timestamp, '--timestamp');
      const saved = await withStore(opts, true, (store) =>
        store.save({
          content: text,
          namespace: opts.namespace,
          ...(opts.tags ? { tags: opts.tags } : {}),
          ...(opts.metadata ? { metadata: opts.metadata } : {}),
          ...(opts.id === undefined ? {} : { id: opts.id }),
          ...(timestamp ? { timestamp } : {}),
          ...(opts.ttl === undefined ? {} : { ttl: opts.ttl }),
          ...(opts.expiresAt === undefined ? {} : { expiresAt: opts.expiresAt }),
        }),
      );
      output(opts, saved, () => `saved ${saved.id} in namespace ${saved.namespace}`);
    });
}
