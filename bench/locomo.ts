/**
 * LoCoMo-format conversations (snap-research/locomo), loaded for the relevance
 * benchmark. Protocol (shared/data/locomo/README.md): each conversation is one
 * namespace, each turn one memory with content "<speaker>: <text>" and its
 * dia_id as id; each question of categories 1-4 is a query exactly as written;
 * its evidence turns are the relevant memories.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NewMemory } from '../src';

export interface Question {
  question: string;
  category: number;
  evidence: string[];
}

export interface Conversation {
  name: string;
  /** The two speakers, as the file names them (`speaker_a`, `speaker_b`). */
  speakers: [string, string];
  memories: NewMemory[];
  questions: Question[];
}

interface Turn {
  speaker: string;
  dia_id: string;
  text: string;
}

/** "1:56 pm on 8 May, 2023" → a Date (UTC); null when it does not parse. */
function parseSessionDate(text: unknown): Date | null {
  if (typeof text !== 'string') return null;
  const m = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})/i.exec(text);
  if (!m) return null;
  const [, h, min, ampm, day, month, year] = m;
  const hour = (Number(h) % 12) + (ampm.toLowerCase() === 'pm' ? 12 : 0);
  const d = new Date(`${day} ${month} ${year} 00:00:00 UTC`);
  if (Number.isNaN(d.getTime())) return null;
  d.setUTCHours(hour, Number(min));
  return d;
}

/** Evidence ids as written, split where a file joined several ("D8:6; D9:17"). */
function evidenceIds(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : [];
  return list.flatMap((e) => String(e).split(/[;,\s]+/)).filter((e) => /^D\d+:\d+$/.test(e));
}

export function loadConversation(file: string): Conversation {
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  const conv = data.conversation ?? data; // the original locomo10.json nests it
  const memories: NewMemory[] = [];
  const seen = new Set<string>();
  for (let n = 1; Array.isArray(conv[`session_${n}`]) || conv[`session_${n}_date_time`]; n++) {
    const turns: Turn[] = conv[`session_${n}`] ?? [];
    const date = parseSessionDate(conv[`session_${n}_date_time`]) ?? new Date(Date.UTC(2020, 0, n));
    turns.forEach((t, i) => {
      if (!t.text || seen.has(t.dia_id)) return;
      seen.add(t.dia_id);
      memories.push({ id: t.dia_id, content: `${t.speaker}: ${t.text}`, timestamp: new Date(date.getTime() + i * 1000) });
    });
  }
  const qa: { question: string; category: number; evidence?: unknown }[] = data.qa ?? [];
  const questions = qa
    .filter((q) => q.category >= 1 && q.category <= 4)
    .map((q) => ({ question: q.question, category: q.category, evidence: evidenceIds(q.evidence).filter((e) => seen.has(e)) }))
    .filter((q) => q.evidence.length > 0);
  const speakers: [string, string] = [String(conv.speaker_a ?? ''), String(conv.speaker_b ?? '')];
  return { name: path.basename(file, '.json'), speakers, memories, questions };
}

/** Every *.json conversation in a folder (or the one file given). */
export function loadConversations(target: string): Conversation[] {
  const files = fs.statSync(target).isDirectory()
    ? fs.readdirSync(target).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(target, f))
    : [target];
  return files.map(loadConversation);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The memories of `conv`'s namespace at scale R (the growth protocol of
 * issue 10): its own turns, then R copies of every other conversation's turns
 * with their two speakers renamed to this conversation's two (in the
 * "<speaker>:" prefix and wherever the text names them as a whole word), ids
 * made unique (`<conversation>-r<k>-<dia_id>`), and timestamps after this
 * conversation ends (each copy a day after the previous one, its own spacing
 * kept). The questions and their evidence are unchanged: the asked-about
 * memories are the old ones. R = 0 is the plain protocol.
 */
export function scaledMemories(conv: Conversation, all: Conversation[], scale: number): NewMemory[] {
  const out: NewMemory[] = [...conv.memories];
  if (scale <= 0) return out;
  const day = 86_400_000;
  let clock = Math.max(...conv.memories.map((m) => (m.timestamp as Date).getTime())) + day;
  for (let k = 1; k <= scale; k++) {
    for (const other of all) {
      if (other.name === conv.name) continue;
      // One pass for both names, so a name renamed into the other's is not renamed twice (Tim → John, John → Maria).
      const names = new Map(other.speakers.map((from, i) => [from, conv.speakers[i]] as const).filter(([from]) => from !== ''));
      const rename = new RegExp(`\\b(${[...names.keys()].map(escapeRegExp).join('|')})\\b`, 'g');
      const first = (other.memories[0].timestamp as Date).getTime();
      let last = clock;
      for (const m of other.memories) {
        const content = names.size ? m.content.replace(rename, (name) => names.get(name)!) : m.content;
        const at = clock + ((m.timestamp as Date).getTime() - first);
        last = Math.max(last, at);
        out.push({ id: `${other.name}-r${k}-${m.id}`, content, timestamp: new Date(at) });
      }
      clock = last + day;
    }
  }
  return out;
}
