/**
 * `${ENV_VAR}` references in the config's string values, so secrets stay out of the file.
 * `$${` writes a literal `${`. Keys are never substituted (a field's name is not data). A missing
 * variable is an error naming the field and the variable, never its value.
 */

export interface SubstitutionResult {
  readonly document: unknown;
  readonly errors: string[];
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const join = (path: string, key: string | number): string => (path === '' ? String(key) : `${path}.${key}`);

function substituteString(
  text: string,
  path: string,
  env: Readonly<Record<string, string | undefined>>,
  errors: string[],
): string {
  if (!text.includes('$')) return text;
  return text.replace(REFERENCE, (match: string, name: string | undefined) => {
    if (match === '$${') return '${';
    const field = path === '' ? 'the config' : path;
    if (name === undefined || !match.endsWith('}') || !VARIABLE_NAME.test(name)) {
      errors.push(
        `${field} has a malformed reference: write \${NAME} with letters, digits and _ (example: \${OPENAI_API_KEY}), or $\${ for a literal \${`,
      );
      return '';
    }
    // Own properties only: `${constructor}` must not find Object.prototype.constructor.
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value === undefined) {
      errors.push(`${field} refers to \${${name}}, which is not set: export ${name}, or edit the config`);
      return '';
    }
    if (value === '') {
      errors.push(`${field} refers to \${${name}}, which is empty: give it a value, or edit the config`);
      return '';
    }
    return value;
  });
}

function walk(
  value: unknown,
  path: string,
  env: Readonly<Record<string, string | undefined>>,
  errors: string[],
): unknown {
  if (typeof value === 'string') return substituteString(value, path, env, errors);
  if (Array.isArray(value)) return value.map((item, index) => walk(item, join(path, index), env, errors));
  if (typeof value === 'object' && value !== null) {
    const output: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, so a YAML key `__proto__` stays an ordinary (and later unknown) field.
      Object.defineProperty(output, key, {
        value: walk(item, join(path, key), env, errors),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return output;
  }
  return value;
}

/** Replaces every `${NAME}` in the document's string values with `env[NAME]`. */
export function substituteEnv(
  document: unknown,
  env: Readonly<Record<string, string | undefined>>,
): SubstitutionResult {
  const errors: string[] = [];
  return { document: walk(document, '', env, errors), errors };
}
