// The Markdown a user reads (README.md and docs/), and the parts of it the doc
// checks look at: links, headings and fenced code blocks outside code.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Where the repository lives; links to files that are not in the tarball point here. */
export const REPOSITORY_URL = 'https://github.com/axios-oauth-queue/axios-oauth-queue';

/** One Markdown file, by its path relative to the repository root. */
export interface MarkdownFile {
  path: string;
  text: string;
}

/** README.md and every .md under docs/, relative to `root`. */
export function markdownFiles(root: string): MarkdownFile[] {
  const paths = ['README.md', ...walk(join(root, 'docs')).map((path) => relative(root, path))];
  return paths.sort().map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
}

function walk(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return walk(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** A fenced code block: its language, its first line number (1-based), its text, and the HTML comment just above it. */
export interface CodeBlock {
  language: string;
  line: number;
  code: string;
  marker: string | undefined;
}

/** The fenced code blocks of a Markdown text, in order. */
export function codeBlocks(text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const open = /^(```+)\s*([\w-]*)/.exec(lines[index] ?? '');
    if (open === null) continue;
    const fence = open[1] ?? '```';
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length && !(lines[index] ?? '').startsWith(fence); index++) body.push(lines[index] ?? '');
    const above = lines.slice(0, start).reverse().find((line) => line.trim() !== '');
    const marker = above !== undefined && /^<!--.*-->$/.test(above.trim()) ? above.trim() : undefined;
    blocks.push({ language: open[2] ?? '', line: start + 2, code: body.join('\n'), marker });
  }
  return blocks;
}

/** The text with fenced code blocks and inline code blanked out (line numbers kept), for finding links. */
export function proseOf(text: string): string {
  let inFence = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^```/.test(line)) {
        inFence = !inFence;
        return '';
      }
      return inFence ? '' : line.replace(/`[^`]*`/g, '``');
    })
    .join('\n');
}

/** The anchors GitHub and npm make for the headings of a text (lower case, punctuation dropped, spaces as hyphens, repeats numbered). */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseOf(text.replace(/`([^`]*)`/g, '$1')).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const slug = (heading[1] ?? '').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}
