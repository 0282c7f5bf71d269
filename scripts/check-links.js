#!/usr/bin/env node
/**
 * Dead relative links in the package's Markdown (`npm run docs:check`).
 *
 * Packs the package (`npm pack`), unpacks the tarball, and checks every
 * Markdown file in it (README, CHANGELOG, docs/ and the API reference in
 * docs/api): each relative link and image must name a file inside the
 * package, and a `#fragment` a heading of the file it points to (GitHub's
 * anchors: lower case, punctuation dropped, spaces as hyphens). Links out of
 * the package (`../shared/SPEC.md`) are dead for every user who installs it.
 * Absolute URLs are not fetched (no network in CI).
 *
 *   node scripts/check-links.js            pack, unpack, check
 *   node scripts/check-links.js <folder>   check the Markdown under a folder as it is
 *
 * Exits 1 and lists every dead link; the checks are exported for tests.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** Every .md file under `dir`, relative paths. */
function markdownFiles(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : markdownFiles(full, base);
    return e.name.endsWith('.md') ? [path.relative(base, full)] : [];
  });
}

/** The text without fenced code blocks. */
function withoutFences(text) {
  return text.replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
}

/** The text without fenced code blocks and inline code (links there are examples, not links). */
function prose(text) {
  return withoutFences(text).replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading text. */
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a Markdown file offers: its headings (duplicates numbered as GitHub does) and explicit <a name|id>. */
function anchors(text) {
  const seen = new Map();
  const out = new Set();
  for (const m of withoutFences(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

/** Link targets in a Markdown text: inline links and images, and reference definitions. */
function targets(text) {
  const body = prose(text);
  const found = [];
  for (const m of body.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) found.push(m[1]);
  for (const m of body.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)) found.push(m[1]);
  return found;
}

/**
 * Dead relative links of the Markdown files under `root` (relative paths),
 * as `file: link (why)`; [] when every link resolves inside `root`.
 */
function deadLinks(root, files = markdownFiles(root)) {
  const problems = [];
  const cache = new Map();
  const anchorsOf = (file) => {
    if (!cache.has(file)) cache.set(file, anchors(fs.readFileSync(file, 'utf8')));
    return cache.get(file);
  };
  for (const file of files) {
    const full = path.join(root, file);
    for (const link of targets(fs.readFileSync(full, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:, …
      const [rawPath, fragment] = link.split('#');
      let target = full;
      if (rawPath) {
        target = path.resolve(path.dirname(full), decodeURIComponent(rawPath));
        const inside = path.relative(root, target);
        if (inside.startsWith('..') || path.isAbsolute(inside)) {
          problems.push(`${file}: ${link} (outside the package)`);
          continue;
        }
        if (!fs.existsSync(target)) {
          problems.push(`${file}: ${link} (no such file)`);
          continue;
        }
      }
      if (fragment && target.endsWith('.md') && fs.statSync(target).isFile() && !anchorsOf(target).has(fragment.toLowerCase())) {
        problems.push(`${file}: ${link} (no heading #${fragment} in ${path.relative(root, target)})`);
      }
    }
  }
  return problems;
}

/** Packs the repository holding this script into a temp dir and returns the unpacked package folder. */
function unpackedPackage() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aimemo-links-'));
  const repo = path.join(__dirname, '..');
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: repo, encoding: 'utf8' }));
  execFileSync('tar', ['-xzf', path.join(tmp, filename), '-C', tmp]);
  return { dir: path.join(tmp, 'package'), cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

function main() {
  const given = process.argv[2];
  const pkg = given ? { dir: path.resolve(given), cleanup: () => undefined } : unpackedPackage();
  try {
    const files = markdownFiles(pkg.dir);
    const problems = deadLinks(pkg.dir, files);
    if (problems.length) {
      console.error(`check-links: ${problems.length} dead link${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
      process.exitCode = 1;
    } else {
      console.log(`check-links: ${files.length} Markdown files${given ? '' : ' in the packed tarball'}, no dead relative link`);
    }
  } finally {
    pkg.cleanup();
  }
}

if (require.main === module) main();

module.exports = { deadLinks, markdownFiles, anchors, targets, slug };
