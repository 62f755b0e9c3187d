/**
 * Shared by the release tests (scripts/release/*.test.ts): the publishable packages of the workspace and the
 * README snippets that must equal the files the consumer test executes.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '../..');

/** A publishable workspace package (`packages/<dir>`, not private). */
export interface WorkspacePackage {
  readonly dir: string;
  readonly path: string;
  readonly manifest: Record<string, any>;
}

/** Every package under `packages/` that would be published. */
export function publishablePackages(): WorkspacePackage[] {
  const base = join(repoRoot, 'packages');
  return readdirSync(base)
    .filter((dir) => existsSync(join(base, dir, 'package.json')))
    .map((dir) => ({ dir, path: join(base, dir), manifest: JSON.parse(readFileSync(join(base, dir, 'package.json'), 'utf8')) }))
    .filter((pkg) => pkg.manifest.private !== true);
}

/**
 * The code blocks of a Markdown file that follow a `<!-- snippet: <path> -->` marker, keyed by that path
 * (relative to the Markdown file). The marker line is followed by a fenced block, optionally inside a
 * `<details>` element.
 */
export function markedSnippets(markdownPath: string): Map<string, string> {
  const text = readFileSync(markdownPath, 'utf8');
  const snippets = new Map<string, string>();
  const marker = /<!-- snippet: (\S+) -->\n(?:<details>.*\n+)?```[a-z]*\n([\s\S]*?)```/g;
  for (const match of text.matchAll(marker)) snippets.set(match[1], match[2]);
  return snippets;
}

/** The arguments of the first `npm install ...` command (continued with `\`) in a README's marked install block. */
export function installArguments(markdownPath: string): string[] {
  const snippet = markedSnippets(markdownPath).get('install');
  if (!snippet) throw new Error(`${markdownPath} has no <!-- snippet: install --> block`);
  const command = snippet.replace(/\\\n/g, ' ').split('\n')[0];
  const words = command.split(/\s+/).filter(Boolean);
  if (words[0] !== 'npm' || words[1] !== 'install') throw new Error(`not an npm install command: ${command}`);
  return words.slice(2);
}
