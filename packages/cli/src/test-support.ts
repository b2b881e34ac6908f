/** Runs the CLI in-process with captured output; scenario files come from a temp folder or the repo. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Io } from './io.js';
import { main } from './main.js';

export const repoRoot: string = new URL('../../../', import.meta.url).pathname;

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: readonly string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readFile: (path) => readFileSync(path.startsWith('/') ? path : join(repoRoot, path), 'utf8'),
    isTty: false,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

// Made at the first scenario file: a test file whose tests are all skipped runs no hooks, so a
// folder made at import would be left behind.
let folder: string | undefined;
let counter = 0;
// Registered in each test file that imports this module: its scenario files go when it ends.
afterAll(() => {
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
});

/** Writes a scenario to a fresh temp file and returns its path. */
export function scenarioFile(text: string, extension = 'yaml'): string {
  folder ??= mkdtempSync(join(tmpdir(), 'autocap-cli-'));
  counter += 1;
  const path = join(folder, `scenario-${counter}.${extension}`);
  writeFileSync(path, text);
  return path;
}
