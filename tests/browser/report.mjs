// Drives headless Chromium over one HTML report, as a person would: opens it from file://,
// checks the matrix (rows, target columns, coloured cells), the totals, the chart and the list of
// all cases, clicks a cell with the mouse and then a case, and checks the case view (request,
// response or event timeline, findings); opens a streamed case by its URL hash; saves
// screenshots. Fails on any console error and on any request to a URL other than file: or data:.
//
//   node tests/browser/report.mjs SPEC_JSON
//
// SPEC_JSON: {"report": PATH, "rows": N, "targets": [NAME...], "screenshot": PNG,
//             "case_screenshot": PNG, "chromium": PATH, "profile": DIR}
// Run by tests/html_report.rs, which writes the report and says what to expect.

import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';

const spec = JSON.parse(process.argv[2]);
const problems = [];
const check = (ok, what) => {
  if (!ok) problems.push(what);
  return ok;
};

const context = await chromium.launchPersistentContext(spec.profile, {
  executablePath: spec.chromium,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1360, height: 900 },
  deviceScaleFactor: 1,
});

const outside = [];
const errors = [];
context.on('request', (r) => {
  const url = r.url();
  if (!url.startsWith('file:') && !url.startsWith('data:')) outside.push(url);
});
const page = context.pages()[0] || (await context.newPage());
page.on('console', (m) => {
  if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
});
page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));

const url = pathToFileURL(spec.report).href;
const report = {};
try {
  await page.goto(url, { waitUntil: 'load' });

  // The matrix: one row per check, one column per target, in the run's order.
  const rows = await page.locator('#matrix > tbody:not(.totals) > tr').count();
  check(rows === spec.rows, `the matrix has ${rows} check rows, expected ${spec.rows}`);
  const names = await page.locator('#matrix thead th.target').evaluateAll((ths) =>
    ths.map((th) => th.childNodes[0].textContent));
  check(JSON.stringify(names) === JSON.stringify(spec.targets), `target columns ${JSON.stringify(names)}, expected ${JSON.stringify(spec.targets)}`);
  const totals = await page.locator('#matrix > tbody.totals > tr').count();
  check(totals === 11, `${totals} totals rows, expected 11`);

  // Coloured cells: each class has its own background, and pass is green.
  const colours = await page.evaluate(() => {
    const out = {};
    for (const b of document.querySelectorAll('#matrix td.cell button')) {
      const cls = b.parentElement.className.replace('cell ', '');
      out[cls] = getComputedStyle(b).backgroundColor;
    }
    return out;
  });
  report.cell_colours = colours;
  check(colours['c-pass'] === 'rgb(220, 244, 226)', `pass cells are ${colours['c-pass']}`);
  const kinds = Object.keys(colours);
  check(new Set(Object.values(colours)).size === kinds.length, `each kind of cell has its own colour: ${JSON.stringify(colours)}`);
  for (const k of spec.cell_kinds || []) check(kinds.includes(k), `no ${k} cell in the matrix`);

  // The chart: two panels, a dot per streamed case.
  const dots = await page.locator('#chart svg circle.dot').count();
  report.chart_dots = dots;
  check((await page.locator('#chart svg').count()) === 2, 'the chart has two panels');
  if (spec.streamed) check(dots > 0, 'the chart has no dot');

  // Every case is in the list.
  const cases = await page.evaluate(() => JSON.parse(document.getElementById('data').textContent).cases.length);
  const listed = await page.locator('#case-list tr[data-case]').count();
  check(listed === cases, `${listed} cases listed, ${cases} in the data`);
  report.cases = cases;
  await page.screenshot({ path: spec.screenshot, fullPage: true });

  // A real mouse click on the worst cell: it opens its cases (or the case, when only one).
  let cell = null;
  for (const kind of ['c-violation', 'c-warning', 'c-variant', 'c-info', 'c-pass']) {
    const b = page.locator(`#matrix td.${kind} button`).first();
    if (await b.count()) { cell = b; report.clicked_cell = kind; break; }
  }
  if (check(cell !== null, 'no cell to click')) {
    await cell.scrollIntoViewIfNeeded();
    const box = await cell.boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.locator('#overlay:not([hidden])').waitFor({ timeout: 5000 });
    const hash = await page.evaluate(() => location.hash);
    if (hash.startsWith('#cell=')) {
      const first = page.locator('.cell-cases tbody tr').first();
      check((await page.locator('.cell-cases tbody tr').count()) >= 1, 'the cell lists no case');
      const link = first.locator('a');
      const lbox = await link.boundingBox();
      await page.mouse.click(lbox.x + lbox.width / 2, lbox.y + lbox.height / 2);
    }
    await page.waitForFunction(() => /^#case=\d+$/.test(location.hash), null, { timeout: 5000 });
    await page.locator('.panel h3', { hasText: 'Request' }).waitFor({ timeout: 5000 });
    const text = await page.locator('.panel').innerText();
    check(/^(POST|GET|DELETE) \//m.test(text), 'the case view shows no request line');
    check(/HTTP \d{3}/.test(text), 'the case view shows no response status');
    check(text.includes('Findings'), 'the case view has no findings section');
    check(text.includes('Diff against the other targets'), 'the case view has no diff across targets');
    if (report.clicked_cell !== 'c-pass') {
      check((await page.locator('.panel .finding').count()) >= 1, 'the case of a coloured cell shows no finding');
      check(text.includes('provenance:'), 'the finding has no catalog explanation');
    }
    check((await page.locator('.panel .timeline, .panel pre.body').count()) >= 1, 'the case view shows neither a body nor an event timeline');
    report.opened = await page.evaluate(() => location.hash);

    // Escape closes the panel and clears the hash.
    await page.keyboard.press('Escape');
    check(await page.locator('#overlay').isHidden(), 'Escape does not close the panel');
    check((await page.evaluate(() => location.hash)) === '', 'closing leaves the hash');
  }

  // Keyboard: a cell is a button, Enter opens it.
  const anyCell = page.locator('#matrix td.cell button').first();
  await anyCell.focus();
  await page.keyboard.press('Enter');
  await page.locator('#overlay:not([hidden])').waitFor({ timeout: 5000 });
  await page.keyboard.press('Escape');

  // A streamed case, opened by its URL: the event timeline with arrival times and gaps, and
  // what the SDKs make of it. The worst streamed case, so that the screenshot shows findings.
  const streamed = await page.evaluate(() => {
    const d = JSON.parse(document.getElementById('data').textContent);
    const rank = { info: 1, variant: 2, warning: 3, violation: 4 };
    let best = null;
    let bestRank = -1;
    d.cases.forEach((c, i) => {
      if (!c.exchange || !c.exchange.events) return;
      const r = Math.max(0, ...c.findings.map((f) => rank[f.severity]));
      if (r > bestRank) { best = i; bestRank = r; }
    });
    return best;
  });
  if (spec.streamed && check(streamed !== null, 'no streamed case in the data')) {
    await page.goto(url + '#case=' + streamed, { waitUntil: 'load' });
    await page.locator('.panel .timeline').waitFor({ timeout: 5000 });
    const events = await page.locator('.panel .timeline tbody tr').count();
    check(events >= 2, `the timeline shows ${events} events`);
    const gaps = await page.locator('.panel .timeline tbody tr td:nth-child(3)').allInnerTexts();
    check(gaps.slice(1).every((g) => /^\d+\.\d\d$/.test(g)), `gaps are not in ms: ${gaps.slice(0, 5)}`);
    const text = await page.locator('.panel').innerText();
    check(text.includes('openai-python:') && text.includes('openai-node:'), 'no SDK outcome for the stream');
    check(/event timeline/i.test(text), 'no event timeline heading');
    report.streamed_case = streamed;
    report.timeline_rows = events;
    // Tall enough for the findings, the request and the start of the timeline.
    await page.setViewportSize({ width: 1360, height: 1700 });
    await page.screenshot({ path: spec.case_screenshot });
  }

  // With a baseline: the case whose accepted snapshot differs shows the diff, + and - lines
  // coloured; a case that did not change says so.
  if (spec.baseline_case) {
    const i = await page.evaluate((name) => {
      const d = JSON.parse(document.getElementById('data').textContent);
      return d.cases.findIndex((c) => c.name === name);
    }, spec.baseline_case);
    if (check(i >= 0, `no case ${spec.baseline_case} in the data`)) {
      await page.goto(url + '#case=' + i, { waitUntil: 'load' });
      await page.locator('.panel pre.udiff').waitFor({ timeout: 5000 });
      const removed = await page.locator('.panel pre.udiff span.del').allInnerTexts();
      const added = await page.locator('.panel pre.udiff span.add').allInnerTexts();
      check(removed.some((l) => l.includes(spec.baseline_removed)), `the baseline diff removes no \`${spec.baseline_removed}\`: ${removed}`);
      check(added.some((l) => l.includes(spec.baseline_added)), `the baseline diff adds no \`${spec.baseline_added}\`: ${added}`);
      const text = await page.locator('.panel').innerText();
      check(/diff against baseline/i.test(text), 'no "Diff against baseline" heading');
      report.baseline_diff_lines = removed.length + added.length;
    }
  }
} catch (e) {
  problems.push(`the script stopped: ${e.stack || e}`);
} finally {
  await context.close();
}

check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
check(outside.length === 0, `requests outside file: ${outside.join(', ')}`);
report.problems = problems;
console.log(JSON.stringify(report, null, 2));
process.exit(problems.length ? 1 : 0);
