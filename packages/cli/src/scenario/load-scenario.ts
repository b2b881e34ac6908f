/** Reads a scenario file (YAML or JSON) and lays `--set path=value` overrides over it. */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CliError } from '../cli-error.js';
import type { Io } from '../io.js';
import { applyOverride } from './set-override.js';

function parseDocument(text: string, path: string): unknown {
  if (path.endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new CliError(`${path}: malformed JSON: ${(error as Error).message}`, 'E_SCENARIO');
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const where = error.linePos?.[0];
      const at = where ? ` at line ${where.line}, column ${where.col}` : '';
      const reason = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '');
      throw new CliError(`${path}: malformed YAML${at}: ${reason}`, 'E_SCENARIO');
    }
    throw error;
  }
}

export function loadScenario(path: string, overrides: readonly string[], io: Io): unknown {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
    throw new CliError(`${path}: cannot read the scenario file (${reason})`, 'E_IO');
  }
  let document = parseDocument(text, path);
  if (document === null || document === undefined) document = {};
  for (const override of overrides) document = applyOverride(document, override);
  return document;
}
