// Summarises a V8 .cpuprofile (node --cpu-prof) by self time. The CLI is an esbuild bundle, so a
// bundle location is mapped back to its source file through esbuild's `// path/to/file.ts`
// module markers, and to the line where the function is defined in that file.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MARKER = /^\/\/ ((?:packages|node_modules)\/\S+\.(?:ts|js|mjs|cjs|json))$/;
const linesCache = new Map();
const readLines = (path) => {
  if (!linesCache.has(path))
    linesCache.set(path, existsSync(path) ? readFileSync(path, 'utf8').split('\n') : []);
  return linesCache.get(path);
};
const markersCache = new Map();
/** esbuild's module markers of a bundle file: [{ line, file }] in line order. */
const markersOf = (path) => {
  if (!markersCache.has(path)) {
    const markers = [];
    readLines(path).forEach((text, line) => {
      const match = MARKER.exec(text);
      if (match) markers.push({ line, file: match[1] });
    });
    markersCache.set(path, markers);
  }
  return markersCache.get(path);
};
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The line where `name` is defined in a source file (1-based), or undefined. */
function definitionLine(source, name) {
  // esbuild renames clashing names (handle -> handle2): try the name as written, then without digits.
  for (const candidate of new Set([name, name.replace(/\d+$/, '')])) {
    const n = escapeRegExp(candidate);
    const modifiers = '(?:(?:public|private|protected|static|async|override|readonly|get|set)\\s+)*';
    const patterns = [
      new RegExp(`function\\*?\\s+${n}\\b`),
      new RegExp(`\\b${n}\\s*[=:]\\s*(?:async\\s*)?(?:\\(|function|[A-Za-z_$][\\w$]*\\s*=>)`),
      new RegExp(`^\\s*${modifiers}${n}\\s*[(<]`),
      new RegExp(`class\\s+${n}\\b`),
    ];
    for (const pattern of patterns) {
      const index = source.findIndex((text) => pattern.test(text));
      if (index >= 0) return index + 1;
    }
  }
  return undefined;
}

/** Where a function in the bundle comes from: { file, line } (line prefixed ~ when approximate). */
function sourceLocation(bundlePath, line0, name, repoRoot) {
  const markers = markersOf(bundlePath);
  let low = 0;
  let high = markers.length - 1;
  let found;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (markers[mid].line <= line0) {
      found = markers[mid];
      low = mid + 1;
    } else high = mid - 1;
  }
  if (!found) return undefined;
  const line =
    name === '(anonymous)' ? undefined : definitionLine(readLines(`${repoRoot}/${found.file}`), name);
  return { file: found.file, line: line ?? `~${line0 - found.line}` };
}

/**
 * Top self-time functions of a profile, [{ selfMs, pct, name, where, bundle }], and the same by
 * source file, pct of non-idle samples. `repoRoot` maps bundle files to sources.
 */
export function summarizeProfile(profilePath, { repoRoot, top = 10 }) {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const functions = new Map();
  const files = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    totalUs += us;
    const key = keyOf(frame);
    const entry = functions.get(key) ?? { us: 0, ...locate(frame, repoRoot) };
    entry.us += us;
    functions.set(key, entry);
    files.set(entry.file, (files.get(entry.file) ?? 0) + us);
  }
  // Inclusive time of our own functions (packages/...): each sample counts once per function on its stack.
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map();
  profile.samples.forEach((id, index) => {
    if (byId.get(id)?.callFrame.functionName === '(idle)') return;
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const entry = functions.get(keyOf(byId.get(at).callFrame)) ?? locate(byId.get(at).callFrame, repoRoot);
      if (!entry.file.startsWith('packages/')) continue;
      const key = `${entry.name}|${entry.where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const sum = inclusive.get(key) ?? { us: 0, name: entry.name, where: entry.where };
      sum.us += profile.timeDeltas[index] ?? 0;
      inclusive.set(key, sum);
    }
  });
  const pct = (us) => (totalUs ? (100 * us) / totalUs : 0);
  return {
    totalMs: totalUs / 1000,
    top: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(({ us, name, where, bundle }) => ({ selfMs: us / 1000, pct: pct(us), name, where, bundle })),
    inclusive: [...inclusive.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(({ us, name, where }) => ({ totalMs: us / 1000, pct: pct(us), name, where })),
    byFile: [...files.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([file, us]) => ({ file, selfMs: us / 1000, pct: pct(us) })),
  };
}

const keyOf = (frame) => `${frame.functionName}|${frame.url}|${frame.lineNumber}`;
const locations = new Map();

function locate(frame, repoRoot) {
  const key = keyOf(frame);
  if (!locations.has(key)) locations.set(key, locateUncached(frame, repoRoot));
  return locations.get(key);
}

function locateUncached(frame, repoRoot) {
  const name = frame.functionName || '(anonymous)';
  const line = frame.lineNumber + 1;
  if (!frame.url) return { name, where: '(native/VM)', file: '(native/VM)' };
  if (!frame.url.startsWith('file://')) return { name, where: `${frame.url}:${line}`, file: frame.url };
  const path = fileURLToPath(frame.url);
  const relative = path.startsWith(`${repoRoot}/`) ? path.slice(repoRoot.length + 1) : path;
  const source =
    relative.startsWith('packages/cli/dist/') && sourceLocation(path, frame.lineNumber, name, repoRoot);
  if (!source) return { name, where: `${relative}:${line}`, file: relative };
  return { name, where: `${source.file}:${source.line}`, file: source.file, bundle: `${relative}:${line}` };
}
