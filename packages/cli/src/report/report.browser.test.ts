/**
 * Opens the report in Debian's headless Chromium (driven by playwright-core; no browser download)
 * and checks what a reader would see: every chart drawn with marks and labelled axes, no console
 * or page errors, no network requests, and a screenshot that is not blank. With
 * AUTOCAP_UPDATE_SCREENSHOT=1 the screenshot replaces docs/report-screenshot.png (the README's).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { referenceData } from '../reference-data.js';
import { repoRoot, runCli } from '../test-support.js';
import { renderReport } from './render-report.js';
import { gatherReportData } from './report-data.js';
import { syntheticSimulation } from './synthetic-simulation.js';

const executablePath = '/usr/bin/chromium';
const installed = existsSync(executablePath);
const inCi = (process.env['CI'] ?? '') !== '';
const MISSING = `Debian's chromium is not installed at ${executablePath}: install it with \`apt-get install -y chromium\` (.ci/run does this)`;
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VIEWPORT = { width: 1100, height: 900 };
const example = 'examples/rent-vs-own-70b-chat.yaml';
// Made when the browser tests start: a skipped describe runs none of its hooks, so a folder made
// at import would be left behind.
let folder = '';

interface ChartStats {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  /** Plotted paths with a length and bars with an area. */
  readonly marks: number;
  readonly axisTitles: readonly string[];
  readonly tickLabels: number;
}

/** Runs in the page: what each chart has drawn. */
const CHART_STATS = `[...document.querySelectorAll('svg.chart')].map((svg) => {
  const box = svg.getBoundingClientRect();
  const marks = [...svg.querySelectorAll('path.series, rect.bar')].filter((mark) => {
    const bbox = mark.getBBox();
    if (mark.tagName === 'path') return mark.getTotalLength() > 1 && (bbox.width > 0 || bbox.height > 0);
    return bbox.width > 0 && bbox.height > 0;
  });
  return {
    id: svg.getAttribute('data-chart'),
    width: box.width,
    height: box.height,
    marks: marks.length,
    axisTitles: [...svg.querySelectorAll('.axis-title')].map((text) => text.textContent.trim()).filter(Boolean),
    tickLabels: svg.querySelectorAll('.axes text:not(.axis-title)').length,
  };
})`;

interface Ink {
  /** Share of pixels that are not (near) white: text, axes, marks. */
  readonly inked: number;
  /** Share of strongly coloured pixels: plotted marks (text, grid and axes are grey). */
  readonly coloured: number;
}

/** Runs in a blank page: how much of a PNG is drawn on. */
function inkScript(png: Buffer): string {
  return `(async () => {
    const image = new Image();
    image.src = 'data:image/png;base64,${png.toString('base64')}';
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let inked = 0;
    let coloured = 0;
    for (let index = 0; index < data.length; index += 4) {
      const [red, green, blue] = [data[index], data[index + 1], data[index + 2]];
      if (red < 230 || green < 230 || blue < 230) inked += 1;
      if (Math.max(red, green, blue) - Math.min(red, green, blue) > 80) coloured += 1;
    }
    const pixels = data.length / 4;
    return { inked: inked / pixels, coloured: coloured / pixels };
  })()`;
}

interface Opened {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Requests that were not for a file:// URL (all blocked). */
  readonly network: string[];
  readonly errors: string[];
}

describe.skipIf(!installed && !inCi)(
  installed
    ? 'the report in headless Chromium'
    : `the report in headless Chromium (${inCi ? 'failing in CI' : 'skipped'}: ${MISSING})`,
  () => {
    let browser: Browser | undefined;
    let blank: Page | undefined;

    beforeAll(async () => {
      folder = mkdtempSync(join(tmpdir(), 'autocap-browser-'));
      if (!installed) throw new Error(MISSING);
      // launch() gives every run a fresh temporary profile (user-data-dir) of its own.
      browser = await chromium.launch({ executablePath, args: ARGS });
      blank = await browser.newPage({ viewport: VIEWPORT });
      await blank.setContent('<!doctype html><html><body style="margin:0;background:#fff"></body></html>');
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      if (folder !== '') rmSync(folder, { recursive: true, force: true });
    });

    async function open(path: string): Promise<Opened> {
      if (!browser) throw new Error('the browser did not start');
      const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
      const network: string[] = [];
      const errors: string[] = [];
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        network.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith('file:') && !network.includes(url)) network.push(url);
      });
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
      await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
      return { context, page, network, errors };
    }

    async function ink(png: Buffer): Promise<Ink> {
      if (!blank) throw new Error('the browser did not start');
      return await blank.evaluate<Ink>(inkScript(png));
    }

    async function checkCharts(opened: Opened, expected: readonly string[]): Promise<void> {
      const stats = await opened.page.evaluate<ChartStats[]>(CHART_STATS);
      expect(stats.map((chart) => chart.id)).toEqual(expected);
      for (const chart of stats) {
        expect(chart.width, chart.id).toBeGreaterThan(500);
        expect(chart.height, chart.id).toBeGreaterThan(150);
        expect(chart.marks, `${chart.id}: plotted marks`).toBeGreaterThan(0);
        expect(chart.axisTitles, `${chart.id}: axis titles`).toHaveLength(2);
        expect(chart.tickLabels, `${chart.id}: tick labels`).toBeGreaterThanOrEqual(3);
        const shot = await opened.page.locator(`svg.chart[data-chart="${chart.id}"]`).screenshot();
        const drawn = await ink(shot);
        expect(drawn.inked, `${chart.id}: drawn pixels`).toBeGreaterThan(0.02);
        expect(drawn.coloured, `${chart.id}: coloured marks`).toBeGreaterThan(0.003);
      }
      expect(opened.errors).toEqual([]);
      expect(opened.network).toEqual([]);
    }

    it('draws every chart of the CLI report offline, without errors, and keeps a screenshot', async () => {
      const out = join(folder, 'report.html');
      const result = await runCli(['report', example, '--out', out]);
      expect(result.code, result.stderr).toBe(0);
      const opened = await open(out);
      await checkCharts(opened, [
        'npv-by-option',
        'cumulative-cash-flows',
        'book-vs-economic',
        'appreciation-by-year',
      ]);
      const png = await opened.page.screenshot({ fullPage: true });
      const empty = await blank?.screenshot({ fullPage: true });
      expect(png.length).toBeGreaterThan(20 * (empty?.length ?? 0));
      const page = await ink(png);
      expect(page.inked).toBeGreaterThan(0.05);
      expect(page.coloured).toBeGreaterThan(0.005);
      const keep =
        process.env['AUTOCAP_UPDATE_SCREENSHOT'] === '1'
          ? join(repoRoot, 'docs/report-screenshot.png')
          : join(folder, 'report-screenshot.png');
      writeFileSync(keep, png);
      await opened.context.close();
    }, 90_000);

    it('draws the histogram and tornado of a simulation', async () => {
      const document = parse(readFileSync(join(repoRoot, example), 'utf8')) as unknown;
      const data = gatherReportData({
        scenarioPath: example,
        document,
        data: referenceData,
        simulation: syntheticSimulation(),
      });
      if (!data.ok) throw new Error(data.issues.map((entry) => entry.message).join('\n'));
      const out = join(folder, 'simulated.html');
      writeFileSync(out, renderReport(data.value, { generatedAt: new Date('2026-01-01T00:00:00Z') }).html);
      const opened = await open(out);
      await checkCharts(opened, [
        'npv-by-option',
        'cumulative-cash-flows',
        'book-vs-economic',
        'appreciation-by-year',
        'npv-distribution',
        'tornado',
      ]);
      await opened.context.close();
    }, 90_000);
  },
);
