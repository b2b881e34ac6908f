/**
 * Structured JSON logs, one object per line. Every line passes through redaction: the configured
 * secrets (provider keys, master key) are replaced wherever they appear, and so is anything after
 * "Bearer ". Virtual keys never reach the logger: requests are logged by key id.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly secrets: readonly string[];
  readonly write: (line: string) => void;
  readonly now: () => number;
}

const BEARER = /(bearer\s+)[^\s"',]+/gi;

export function redact(text: string, secrets: readonly string[]): string {
  let clean = text.replace(BEARER, '$1[redacted]');
  for (const secret of secrets) {
    if (secret.length >= 8 && clean.includes(secret)) clean = clean.split(secret).join('[redacted]');
  }
  return clean;
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = RANK[options.level];
  const log = (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void => {
    if (RANK[level] < threshold) return;
    const line = JSON.stringify({ time: new Date(options.now()).toISOString(), level, message, ...fields });
    options.write(`${redact(line, options.secrets)}\n`);
  };
  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    enabled: (level) => RANK[level] >= threshold,
  };
}
