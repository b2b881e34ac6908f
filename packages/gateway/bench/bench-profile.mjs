// Summarises a V8 .cpuprofile (node --cpu-prof) by self time. The CLI is an esbuild bundle, so a
// bundle location is mapped back to its source file through esbuild's `// path/to/file.ts`
// module markers, and to the line where the function is defined in that file.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MARKER = /^\/\/ ((?:packages|node_modules)\/\S+\.(?:ts|js|mjs|cjs|json))$/;
const linesCache = new Map();
const readLines = (path) => {
  if (!linesCache.has(path)) linesCache.set(path, existsSync(path) ? readFileSync(path, 'utf8').split('\n') : []);
  return linesCache.get(path);
};
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where a function in the bundle comes from: "packages/.../file.ts:line" (~ when approximate). */
function sourceLocation(bundlePath, line0, name, repoRoot) {
  const lines = readLines(bundlePath);
  let marker = -1;
  for (let i = Math.min(line0, lines.length - 1); i >= 0; i--) {
    if (MARKER.test(lines[i])) {
      marker = i;
      break;
    }
  }
  if (marker < 0) return undefined;
  const file = MARKER.exec(lines[marker])[1];
  const source = readLines(`${repoRoot}/${file}`);
  if (name && name !== '(anonymous)') {
    const n = escape(name.replace(/^get |^set /, ''));
    const patterns = [
      new RegExp(`function\\*?\\s+${n}\\b`),
      new RegExp(`\\b${n}\\s*[=:]\\s*(?:async\\s*)?(?:\\(|function|[A-Za-z_$][\\w$]*\\s*=>)`),
      new RegExp(`^\\s*(?:(?:public|private|protected|static|async|override|readonly|get|set)\\s+)*${n}\\s*[(<]`),
      new RegExp(`class\\s+${n}\\b`),
    ];
    for (const pattern of patterns) {
      const index = source.findIndex((text) => pattern.test(text));
      if (index >= 0) return `${file}:${index + 1}`;
    }
  }
  return `${file}:~${line0 - marker}`;
}

/**
 * Top self-time functions of a profile: [{ selfMs, pct, name, where, bundle }], pct of non-idle
 * samples. `repoRoot` maps bundle files to sources.
 */
export function summarizeProfile(profilePath, { repoRoot, top = 10 }) {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const groups = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    totalUs += us;
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}`;
    const group = groups.get(key) ?? { us: 0, frame };
    group.us += us;
    groups.set(key, group);
  }
  const rows = [...groups.values()].sort((a, b) => b.us - a.us).slice(0, top);
  return {
    totalMs: totalUs / 1000,
    top: rows.map(({ us, frame }) => {
      const name = frame.functionName || '(anonymous)';
      const line = frame.lineNumber + 1;
      let where = frame.url ? `${frame.url}:${line}` : '(native/VM)';
      let bundle;
      if (frame.url.startsWith('file://')) {
        const path = fileURLToPath(frame.url);
        const relative = path.startsWith(`${repoRoot}/`) ? path.slice(repoRoot.length + 1) : path;
        where = `${relative}:${line}`;
        if (relative.startsWith('packages/cli/dist/')) {
          bundle = where;
          where = sourceLocation(path, frame.lineNumber, name, repoRoot) ?? where;
        }
      }
      return { selfMs: us / 1000, pct: totalUs ? (100 * us) / totalUs : 0, name, where, bundle };
    }),
  };
}
