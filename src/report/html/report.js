/* gatecheck's HTML report: renders the run embedded as JSON in #data (the chart, the list of all
   cases, a cell's cases, one case). Whatever comes from the data enters the page as text
   (textContent, attribute values), never as markup. Routing is by location.hash: #case=N opens
   case N, #cell=R.C the cases of matrix row R and column C; no network, no storage. */
'use strict';
(() => {
  const D = JSON.parse(document.getElementById('data').textContent);
  const RANK = { none: -2, skipped: -1, pass: 0, info: 1, variant: 2, warning: 3, violation: 4 };
  const OUTCOMES = ['pass', 'fail', 'error', 'inconclusive', 'skipped'];
  const SVG = 'http://www.w3.org/2000/svg';
  // A case's `checked` holds indices into D.ids (the matrix rows first).
  const ID = new Map(D.ids.map((id, i) => [id, i]));

  // ---- small helpers -------------------------------------------------------------------------

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    setProps(el, props);
    for (const kid of kids.flat(Infinity)) {
      if (kid == null || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }

  function s(tag, props, ...kids) {
    const el = document.createElementNS(SVG, tag);
    setProps(el, props);
    for (const kid of kids.flat(Infinity)) {
      if (kid == null || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }

  function setProps(el, props) {
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }

  function fmtMs(x) {
    if (x == null) return '—';
    if (x < 1) return x.toFixed(2) + ' ms';
    if (x < 100) return x.toFixed(1) + ' ms';
    return Math.round(x).toLocaleString('en-US') + ' ms';
  }

  function fmtBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
    return (n / (1 << 20)).toFixed(1) + ' MiB';
  }

  function plural(n, word) {
    return n + ' ' + word + (n === 1 ? '' : 's');
  }

  function badge(word, label) {
    return h('span', { class: 'badge ' + word, text: label || (word === 'none' ? '—' : word) });
  }

  /** The bracket of a case name: the target, or target,model. */
  function column(c) {
    const open = c.name.lastIndexOf('[');
    return open >= 0 ? c.name.slice(open + 1, -1) : c.target;
  }

  function bare(c) {
    const open = c.name.lastIndexOf('[');
    return open >= 0 ? c.name.slice(0, open) : c.name;
  }

  function median(values) {
    if (!values.length) return null;
    const v = values.slice().sort((a, b) => a - b);
    return v[Math.floor((v.length - 1) / 2)];
  }

  /** JSON text indented two spaces a level, token by token: the order of keys and the text of
      numbers stay as received, and a body cut in the middle indents as far as it goes. */
  function pretty(text) {
    let out = '';
    let depth = 0;
    let inString = false;
    let escaped = false;
    const newline = () => { out += '\n' + '  '.repeat(depth); };
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        out += ch;
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      switch (ch) {
        case '"': inString = true; out += ch; break;
        case '{': case '[': {
          let j = i + 1;
          while (j < text.length && ' \t\r\n'.includes(text[j])) j++;
          if (text[j] === (ch === '{' ? '}' : ']')) { out += ch + text[j]; i = j; break; }
          depth++; out += ch; newline(); break;
        }
        case '}': case ']': depth = Math.max(0, depth - 1); newline(); out += ch; break;
        case ',': out += ','; newline(); break;
        case ':': out += ': '; break;
        case ' ': case '\t': case '\r': case '\n': break;
        default: out += ch;
      }
    }
    return out;
  }

  /** What one check came to in one case: its worst finding (or the severity it was restated
      with), else pass or skipped when it looked; null when the case did not exercise it. The
      matrix cell is the worst of these over the target's cases. */
  function worstFor(c, check) {
    let word = null;
    let finding = null;
    for (const f of c.findings) {
      if (f.check === check && (word === null || RANK[f.severity] > RANK[word])) {
        word = f.severity;
        finding = f;
      }
    }
    for (const [id, severity] of c.restated) {
      if (id === check && (word === null || RANK[severity] > RANK[word])) {
        word = severity;
        finding = null;
      }
    }
    if (word) return { word, finding, restated: finding === null };
    if (!c.checked.includes(ID.get(check))) return null;
    if (c.outcome === 'pass' || c.outcome === 'fail') return { word: 'pass' };
    if (c.outcome === 'skipped') return { word: 'skipped' };
    return { word: 'none', note: 'not judged: the case ' + (c.outcome === 'error' ? 'errored' : 'was inconclusive') };
  }

  function worstOf(c) {
    let worst = null;
    for (const f of c.findings) if (!worst || RANK[f.severity] > RANK[worst.severity]) worst = f;
    return worst;
  }

  // ---- routing and the panel -----------------------------------------------------------------

  const overlay = h('div', { id: 'overlay', hidden: true });
  const panel = h('div', { class: 'panel', role: 'dialog', 'aria-modal': 'true', tabindex: '-1' });
  overlay.append(panel);
  document.body.append(overlay);
  overlay.addEventListener('click', (e) => { if (e.target === overlay) close(); });
  let opener = null;
  let context = null; // { label, hash, cases: [index...] } the list a case was opened from

  function go(hash) {
    if (location.hash === '#' + hash) route();
    else location.hash = hash;
  }

  function close() {
    overlay.hidden = true;
    context = null;
    panel.replaceChildren();
    try {
      history.replaceState(null, '', location.pathname + location.search);
    } catch (_) {
      location.hash = '';
    }
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  }

  function open(children) {
    if (overlay.hidden && document.activeElement && document.activeElement !== document.body) {
      opener = document.activeElement;
    }
    panel.replaceChildren(...children.flat(Infinity).filter((x) => x != null && x !== false));
    overlay.hidden = false;
    overlay.scrollTop = 0;
    panel.focus({ preventScroll: true });
  }

  function route() {
    const m = /^#(case|cell)=([0-9.]+)$/.exec(location.hash);
    if (!m) {
      if (!overlay.hidden) close();
      return;
    }
    if (m[1] === 'case') {
      const i = Number(m[2]);
      if (D.cases[i]) showCase(i);
      return;
    }
    const [r, c] = m[2].split('.').map(Number);
    if (D.rows[r] !== undefined && D.targets[c] !== undefined) showCell(r, c);
  }

  document.addEventListener('keydown', (e) => {
    if (overlay.hidden) return;
    if (e.key === 'Escape') { e.preventDefault(); close(); return; }
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const step = e.key === 'ArrowRight' || e.key === 'j' ? 1 : e.key === 'ArrowLeft' || e.key === 'k' ? -1 : 0;
    const at = /^#case=(\d+)$/.exec(location.hash);
    if (step && at) {
      const next = neighbour(Number(at[1]), step);
      if (next != null) { e.preventDefault(); go('case=' + next); }
    }
  });

  function neighbour(i, step) {
    const list = context && context.cases.includes(i) ? context.cases : D.cases.map((_, k) => k);
    const at = list.indexOf(i);
    const next = list[at + step];
    return next === undefined ? null : next;
  }

  function closeButton() {
    return h('button', { type: 'button', class: 'close', 'aria-label': 'Close', title: 'Close (Esc)', onclick: close, text: '✕' });
  }

  // ---- the matrix ----------------------------------------------------------------------------

  function cellCases(r, col) {
    const check = D.rows[r];
    const target = D.targets[col];
    const items = [];
    D.cases.forEach((c, i) => {
      if (c.target !== target) return;
      const w = worstFor(c, check);
      if (w) items.push({ i, c, w });
    });
    items.sort((a, b) => RANK[b.w.word] - RANK[a.w.word] || a.i - b.i);
    return items;
  }

  for (const button of document.querySelectorAll('#matrix td.cell button')) {
    button.addEventListener('click', () => {
      const r = Number(button.dataset.row);
      const col = Number(button.dataset.col);
      const items = cellCases(r, col);
      opener = button;
      if (items.length === 1) {
        context = { label: D.rows[r] + ' on ' + D.targets[col], hash: null, cases: [items[0].i] };
        go('case=' + items[0].i);
      } else {
        go('cell=' + r + '.' + col);
      }
    });
  }

  function showCell(r, col) {
    const check = D.rows[r];
    const target = D.targets[col];
    const items = cellCases(r, col);
    const hash = 'cell=' + r + '.' + col;
    context = { label: check + ' on ' + target, hash, cases: items.map((x) => x.i) };
    const info = D.checks[check];
    const rows = items.map(({ i, c, w }) => h('tr', { 'data-case': i, onclick: () => go('case=' + i) },
      h('td', {}, badge(c.outcome)),
      h('td', {}, h('a', { href: '#case=' + i, text: bare(c) })),
      h('td', {}, badge(w.word)),
      h('td', { class: 'msg' }, h('div', { text: w.finding ? w.finding.message : w.restated ? 'left out: another check reported the same defect here' : (w.note || '') }))));
    open([
      h('div', { class: 'panel-head' },
        h('div', {},
          h('h2', {}, h('code', { text: check }), ' on ', target),
          info ? h('div', { class: 'sub', text: info.summary }) : null),
        h('div', { class: 'panel-nav' }, closeButton())),
      h('p', { class: 'count', text: plural(items.length, 'case') + ' of ' + target + ' exercised this check, the worst first. Click one to open it.' }),
      items.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'list cell-cases' },
          h('thead', {}, h('tr', {}, h('th', { text: 'outcome' }), h('th', { text: 'case' }), h('th', { text: 'this check' }), h('th', { text: 'finding' }))),
          h('tbody', {}, rows)))
        : h('p', { class: 'empty', text: 'No case of this target exercised the check.' }),
    ]);
  }

  // ---- one case ------------------------------------------------------------------------------

  function kv(pairs) {
    if (!pairs || !pairs.length) return h('p', { class: 'empty', text: 'no headers' });
    return h('table', { class: 'kv' }, h('tbody', {}, pairs.map(([k, v]) => h('tr', {}, h('td', { text: k }), h('td', { text: v })))));
  }

  function bodyView(b, what) {
    if (!b) return h('p', { class: 'empty', text: 'empty ' + what });
    if (b.omitted) {
      return h('p', { class: 'cut', text: what + ' of ' + fmtBytes(b.bytes) + ' omitted: the report already keeps ' + fmtBytes(D.limits.budget_bytes) + ' of bodies' });
    }
    return [
      h('pre', { class: 'body' + (b.json ? ' json' : '') }, b.json ? pretty(b.text) : b.text),
      b.cut ? h('p', { class: 'cut', text: 'truncated: ' + b.cut.toLocaleString('en-US') + ' more bytes (the report shows the first ' + fmtBytes(D.limits.body_bytes) + ' of a body)' }) : null,
    ];
  }

  function metricsLine(m) {
    const parts = [];
    if (m.first_byte_ms != null) parts.push('first byte ' + fmtMs(m.first_byte_ms));
    if (m.first_token_ms != null) parts.push('first token ' + fmtMs(m.first_token_ms));
    if (m.gap_p50_ms != null) parts.push('gaps p50 ' + fmtMs(m.gap_p50_ms) + ', p95 ' + fmtMs(m.gap_p95_ms) + ', max ' + fmtMs(m.gap_max_ms));
    if (m.last_event_ms != null) parts.push('last event ' + fmtMs(m.last_event_ms));
    parts.push(plural(m.events, 'event') + ' (' + plural(m.chunks, 'chunk') + ', ' + plural(m.comments, 'comment') + '), ' + fmtBytes(m.bytes));
    return parts.join(' · ');
  }

  function timelineView(t, metrics) {
    const list = t.list;
    const maxGap = Math.max(0, ...list.map((e) => e.gap || 0));
    const rows = list.map((e) => {
      const text = [];
      if (e.comments) for (const cm of e.comments) text.push(h('span', { class: 'comment', text: ':' + cm + '\n' }));
      if (e.event) text.push('event: ' + e.event + '\n');
      if (e.id) text.push('id: ' + e.id + '\n');
      if (e.retry) text.push('retry: ' + e.retry + '\n');
      if (e.fields) for (const f of e.fields) text.push(f + '\n');
      const pre = h('pre', {}, text, e.data != null ? e.data : '');
      let expanded = false;
      const cell = h('td', { class: 'data', title: 'click to indent the JSON' }, pre);
      if (e.data != null && /^\s*[[{]/.test(e.data)) {
        cell.addEventListener('click', () => {
          expanded = !expanded;
          pre.replaceChildren(...text.map((x) => (x instanceof Node ? x.cloneNode(true) : x)), expanded ? pretty(e.data) : e.data);
        });
      }
      const notes = [];
      if (e.cut) notes.push(h('span', { class: 'flag', text: 'truncated: ' + e.cut.toLocaleString('en-US') + ' more bytes' }));
      if (e.flags) for (const f of e.flags) notes.push(h('span', { class: 'flag', text: f }));
      if (notes.length) cell.append(...notes);
      const width = maxGap > 0 && e.gap ? Math.max(1, Math.round((e.gap / maxGap) * 60)) : 0;
      return h('tr', {},
        h('td', { class: 'num', text: e.n }),
        h('td', { class: 'num', text: e.at.toFixed(2) }),
        h('td', { class: 'num', text: e.gap == null ? '' : e.gap.toFixed(2) }),
        h('td', {}, width ? h('span', { class: 'bar', style: 'width:' + width + 'px' }) : null),
        cell);
    });
    return [
      metrics ? h('p', { class: 'note', text: metricsLine(metrics) }) : null,
      h('div', { class: 'timeline-wrap' }, h('table', { class: 'timeline' },
        h('thead', {}, h('tr', {}, h('th', { text: '#' }), h('th', { text: 'at (ms)' }), h('th', { text: 'gap (ms)' }), h('th', {}), h('th', { text: 'event' }))),
        h('tbody', {}, rows))),
      t.more ? h('p', { class: 'cut', text: 'truncated: ' + t.more.toLocaleString('en-US') + ' more events not shown (the report shows the first ' + D.limits.events + ', with at most ' + fmtBytes(D.limits.event_bytes) + ' of each)' }) : null,
      list.length ? null : h('p', { class: 'empty', text: 'no event arrived' }),
    ];
  }

  function requestView(x) {
    const q = x.request;
    return [
      h('div', { class: 'reqline', text: q.method + ' ' + q.path }),
      kv(q.headers),
      bodyView(q.body, 'request body'),
    ];
  }

  function responseView(x, metrics) {
    const r = x.response;
    const out = [];
    if (x.error) out.push(h('p', { class: 'cut', text: 'transport: ' + x.error }));
    if (!r) {
      out.push(h('p', { class: 'empty', text: 'no response head arrived' }));
      return out;
    }
    const t = x.timing;
    out.push(h('div', { class: 'reqline', text: 'HTTP ' + r.status }));
    out.push(h('p', { class: 'note', text: 'headers after ' + fmtMs(t.headers_ms) + ', first byte ' + fmtMs(t.first_byte_ms) + ', whole exchange ' + fmtMs(t.total_ms) }));
    out.push(kv(r.headers));
    if (x.events) {
      out.push(h('h4', { text: 'event timeline' }));
      out.push(timelineView(x.events, metrics));
    }
    if (r.body || !x.events) out.push(bodyView(r.body, 'response body'));
    if (r.received > r.kept) {
      out.push(h('p', { class: 'cut', text: 'the transport kept ' + fmtBytes(r.kept) + ' of the ' + fmtBytes(r.received) + ' received (--max-body)' }));
    }
    return out;
  }

  function findingView(f) {
    const info = D.checks[f.check];
    const where = f.path == null ? null : f.path === '' ? 'at the body' : 'at ' + f.path;
    return h('div', { class: 'finding ' + f.severity },
      h('div', { class: 'head' }, badge(f.severity), h('code', { text: f.check }), where ? h('span', { class: 'mono note', text: where }) : null),
      h('div', { class: 'msg', text: f.message }),
      f.expected != null ? h('div', { class: 'ea', text: 'expected: ' + f.expected }) : null,
      f.actual != null ? h('div', { class: 'ea', text: 'actual:   ' + f.actual }) : null,
      f.sdk ? h('div', { class: 'sdk' }, h('b', { text: 'sdk-breaking: ' }), f.sdk) : null,
      info ? h('div', { class: 'catalog' },
        h('div', {}, h('b', { text: f.check + ': ' }), info.summary, ' (at worst ', info.severity, ')'),
        h('div', {}, h('b', { text: 'breaks: ' }), info.breaks),
        h('div', {}, h('b', { text: 'provenance: ' }), info.provenance)) : null);
  }

  function acrossView(c, i) {
    const g = D.groups[c.group];
    if (g.cases.length < 2) return h('p', { class: 'empty', text: 'Only this target ran this case.' });
    const others = g.cases.filter((k) => k !== i).map((k) => h('a', { href: '#case=' + k, text: column(D.cases[k]) }));
    const links = h('p', { class: 'note' }, 'The same case on ', others.flatMap((a, k) => (k ? [', ', a] : [a])), '.');
    if (g.answered.filter(Boolean).length < 2) return [links, h('p', { class: 'empty', text: 'Fewer than two targets gave a JSON answer to compare.' })];
    if (!g.diffs.length) return [links, h('p', { class: 'empty', text: 'Every target that answered gave the same shape (fields and JSON types).' })];
    const me = g.cases.indexOf(i);
    const head = h('tr', {}, h('th', { text: 'field' }), g.cases.map((k, col) => h('th', { class: col === me ? 'me' : null }, h('a', { href: '#case=' + k, text: column(D.cases[k]) }))));
    const rows = g.diffs.map((d) => h('tr', {}, h('td', { text: d.field }), d.types.map((t, col) => {
      const answered = g.answered[col];
      const text = !answered ? '' : t == null ? '— absent' : t;
      return h('td', { class: (col === me ? 'me ' : '') + (answered && t == null ? 'absent' : ''), text });
    })));
    return [
      links,
      h('p', { class: 'note', text: 'Fields one answer has and another lacks, and JSON types that differ (array items as [], a stream as its events, /events/[]). Blank: no JSON answer.' }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'diff' }, h('thead', {}, head), h('tbody', {}, rows))),
    ];
  }

  function baselineView(c) {
    if (!c.baseline) return h('p', { class: 'empty', text: 'No difference from the accepted snapshot.' });
    const lines = c.baseline.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const spans = lines.map((line) => {
      const head = line.startsWith('@@') || line.startsWith('+++ ') || line.startsWith('--- ');
      const cls = head ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : null;
      return h('span', { class: cls, text: line || ' ' });
    });
    return [
      h('pre', { class: 'udiff' }, spans),
      c.baseline.cut ? h('p', { class: 'cut', text: 'truncated: ' + c.baseline.cut.toLocaleString('en-US') + ' more bytes of diff' }) : null,
    ];
  }

  function showCase(i) {
    const c = D.cases[i];
    const x = c.exchange;
    const metrics = c.stream ? c.stream.metrics : null;
    if (!context || !context.cases.includes(i)) context = null;
    const prev = neighbour(i, -1);
    const next = neighbour(i, 1);
    const nav = h('div', { class: 'panel-nav' },
      context && context.hash ? h('a', { href: '#' + context.hash, text: '↑ ' + context.label }) : null,
      h('button', { type: 'button', disabled: prev == null, title: 'previous case (←)', onclick: () => go('case=' + prev), text: '←' }),
      h('button', { type: 'button', disabled: next == null, title: 'next case (→)', onclick: () => go('case=' + next), text: '→' }),
      closeButton());
    const profile = D.profiles[c.target];
    const params = Object.entries(c.params).map(([k, v]) => k + '=' + JSON.stringify(v)).join(', ');
    const facts = h('dl', { class: 'facts' },
      h('dt', { text: 'target' }), h('dd', { text: c.target + (profile && profile !== c.target ? ' (profile ' + profile + ')' : '') }),
      h('dt', { text: 'model' }), h('dd', { class: 'mono', text: c.model }),
      params ? [h('dt', { text: 'parameters' }), h('dd', { class: 'mono', text: params })] : null,
      h('dt', { text: 'defined at' }), h('dd', { class: 'mono', text: c.location }),
      c.reason ? [h('dt', { text: 'why' }), h('dd', { text: c.reason })] : null,
      c.outcome !== 'skipped' ? [h('dt', { text: 'time' }), h('dd', { text: fmtMs(c.elapsed_ms) + (metrics && metrics.first_token_ms != null ? ', first token after ' + fmtMs(metrics.first_token_ms) : '') })] : null,
      c.cost != null ? [h('dt', { text: 'cost' }), h('dd', { text: String(c.cost) + ' (usage.cost)' })] : null);

    const sections = [];
    const restated = c.restated.length
      ? h('p', { class: 'note', text: 'Also counted in the matrix with the same defect\u2019s severity: ' + c.restated.map(([id, sev]) => id + ' (' + sev + ')').join(', ') + '.' })
      : null;
    sections.push(h('h3', { text: 'Findings' }),
      c.findings.length ? c.findings.map(findingView) : h('p', { class: 'empty', text: c.outcome === 'skipped' ? 'Not run.' : 'No finding.' }),
      restated);
    if (c.stream) {
      const sdk = c.stream.sdk;
      sections.push(h('h3', { text: 'With the official SDKs' }),
        h('div', { class: 'sdk-line' }, h('b', { text: 'openai-python: ' }), h('span', { class: sdk.python_breaks ? 'breaks' : null, text: sdk.python })),
        h('div', { class: 'sdk-line' }, h('b', { text: 'openai-node: ' }), h('span', { class: sdk.node_breaks ? 'breaks' : null, text: sdk.node })));
    }
    if (x) {
      sections.push(h('h3', { text: 'Request' }), requestView(x));
      sections.push(h('h3', { text: x.events ? 'Response (streamed)' : 'Response' }), responseView(x, metrics));
    }
    if (c.companion) {
      sections.push(h('h3', { text: 'The same request without streaming' }),
        h('h4', { text: 'request' }), requestView(c.companion),
        h('h4', { text: 'response' }), responseView(c.companion, null));
    }
    sections.push(h('h3', { text: 'Diff against the other targets' }), acrossView(c, i));
    if (D.baseline) sections.push(h('h3', { text: 'Diff against baseline' }), baselineView(c));

    open([
      h('div', { class: 'panel-head' },
        h('div', {},
          h('h2', { text: bare(c) }),
          h('div', { class: 'sub' }, badge(c.outcome), ' ', c.target, c.description ? ' · ' + c.description : '')),
        nav),
      facts,
      sections,
    ]);
  }

  // ---- the chart -----------------------------------------------------------------------------

  /** A strip chart: one row per target, a dot per (case, statistic), the median of the first
      statistic marked; linear in ms, or logarithmic when the values span more than 200x. */
  function stripChart(title, kinds, rows, summary) {
    const W = 1000;
    const left = 150;
    const right = 230;
    const top = 10;
    const rowH = 32;
    const bottom = 34;
    const H = top + rows.length * rowH + bottom;
    const values = rows.flatMap((r) => r.points.map((p) => p.v)).filter((v) => v != null && isFinite(v));
    const positive = values.filter((v) => v > 0);
    const max = Math.max(...values, 0.001);
    const min = positive.length ? Math.min(...positive) : max;
    const log = max / min > 200;
    let lo;
    let hi;
    let ticks;
    if (log) {
      lo = Math.pow(10, Math.floor(Math.log10(min)));
      hi = Math.pow(10, Math.ceil(Math.log10(max)));
      ticks = [];
      for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
    } else {
      const step = niceStep(max / 5);
      lo = 0;
      hi = Math.ceil(max / step) * step;
      ticks = [];
      for (let t = 0; t <= hi + step / 2; t += step) ticks.push(t);
    }
    const x = (v) => {
      const f = log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo || 1);
      return left + f * (W - left - right);
    };
    const svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title });
    const axisY = top + rows.length * rowH;
    for (const t of ticks) {
      svg.append(s('line', { x1: x(t), x2: x(t), y1: top - 4, y2: axisY, class: 'grid' }));
      svg.append(s('text', { x: x(t), y: axisY + 16, 'text-anchor': 'middle', text: tickLabel(t) }));
    }
    svg.append(s('text', { x: (left + W - right) / 2, y: axisY + 31, 'text-anchor': 'middle', text: log ? 'ms (logarithmic)' : 'ms' }));
    rows.forEach((r, k) => {
      const y = top + k * rowH + rowH / 2;
      if (k % 2 === 1) svg.append(s('rect', { x: left, y: top + k * rowH, width: W - left - right, height: rowH, fill: '#f6f8fa' }));
      svg.append(s('text', { x: left - 10, y: y + 4, 'text-anchor': 'end', class: 'name', text: r.label }));
      r.points.forEach((p) => {
        if (p.v == null) return;
        const kind = kinds.find((kd) => kd.key === p.kind);
        const jitter = ((p.i * 7 + kinds.indexOf(kind) * 3) % 11) - 5;
        svg.append(s('circle', {
          cx: x(p.v).toFixed(1), cy: (y + jitter).toFixed(1), r: 4, fill: kind.color, 'fill-opacity': 0.75, class: 'dot',
          onclick: () => go('case=' + p.i),
        }, s('title', { text: bare(D.cases[p.i]) + ': ' + kind.label + ' ' + fmtMs(p.v) })));
      });
      const first = r.points.filter((p) => p.kind === kinds[0].key && p.v != null).map((p) => p.v);
      const m = median(first);
      if (m != null) svg.append(s('line', { x1: x(m), x2: x(m), y1: y - 11, y2: y + 11, stroke: '#1f2328', 'stroke-width': 2 }));
      svg.append(s('text', { x: W - right + 12, y: y + 4, text: summary(r) }));
    });
    svg.append(s('line', { x1: left, x2: W - right, y1: axisY, y2: axisY, stroke: '#8c959f' }));
    const legend = h('div', { class: 'chart-legend' },
      kinds.map((kd) => h('span', {}, h('i', { style: 'background:' + kd.color }), kd.label)),
      h('span', { text: '│ median of ' + kinds[0].label }));
    return h('div', { class: 'chart-panel' }, h('h3', { text: title }), legend, svg);
  }

  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(raw || 1)));
    const f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }

  function tickLabel(t) {
    if (t === 0) return '0';
    if (t < 1) return String(Number(t.toPrecision(2)));
    return t.toLocaleString('en-US', { maximumFractionDigits: 1 });
  }

  function chart() {
    const root = document.getElementById('chart');
    const streamed = D.cases.map((c, i) => ({ c, i })).filter(({ c }) => c.stream && c.stream.metrics);
    if (!streamed.length) {
      root.append(h('p', { class: 'empty', text: 'No streamed answer in this run.' }));
      return;
    }
    const byTarget = D.targets.map((t) => ({ label: t, cases: streamed.filter(({ c }) => c.target === t) }));
    const ttft = byTarget.map((r) => ({
      label: r.label,
      points: r.cases.map(({ c, i }) => ({ i, v: c.stream.metrics.first_token_ms, kind: 'ttft' })),
    }));
    root.append(stripChart('Time to first token, per streamed case', [{ key: 'ttft', label: 'time to first token', color: '#0969da' }], ttft, (r) => {
      const v = r.points.map((p) => p.v).filter((v) => v != null);
      return v.length ? 'p50 ' + fmtMs(median(v)) + ' · max ' + fmtMs(Math.max(...v)) + ' · ' + plural(v.length, 'case') : 'no streamed case';
    }));
    const kinds = [
      { key: 'gap_p50_ms', label: 'gap p50', color: '#2da44e' },
      { key: 'gap_p95_ms', label: 'gap p95', color: '#d4a72c' },
      { key: 'gap_max_ms', label: 'gap max', color: '#cf222e' },
    ];
    const gaps = byTarget.map((r) => ({
      label: r.label,
      points: r.cases.flatMap(({ c, i }) => kinds.map((kd) => ({ i, v: c.stream.metrics[kd.key], kind: kd.key }))),
    }));
    root.append(stripChart('Gaps between events, per streamed case', kinds, gaps, (r) => {
      const p95 = r.points.filter((p) => p.kind === 'gap_p95_ms' && p.v != null).map((p) => p.v);
      const mx = r.points.filter((p) => p.kind === 'gap_max_ms' && p.v != null).map((p) => p.v);
      return p95.length ? 'p95 ≤ ' + fmtMs(Math.max(...p95)) + ' · max ' + fmtMs(Math.max(...mx)) : 'no gaps';
    }));
  }

  // ---- all cases -----------------------------------------------------------------------------

  function caseList() {
    const filters = document.getElementById('case-filters');
    const root = document.getElementById('case-list');
    const state = { outcome: 'all', target: 'all', q: '' };
    const counts = {};
    for (const c of D.cases) counts[c.outcome] = (counts[c.outcome] || 0) + 1;
    const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'outcome' });
    const chip = (key, label) => h('button', {
      type: 'button', class: 'chip', 'data-outcome': key, 'aria-pressed': String(state.outcome === key), text: label,
      onclick: () => {
        state.outcome = key;
        for (const b of chips.children) b.setAttribute('aria-pressed', String(b.dataset.outcome === key));
        draw();
      },
    });
    chips.append(chip('all', 'all ' + D.cases.length));
    for (const o of OUTCOMES) if (counts[o]) chips.append(chip(o, o + ' ' + counts[o]));
    filters.append(chips);
    if (D.targets.length > 1) {
      filters.append(h('select', { 'aria-label': 'target', onchange: (e) => { state.target = e.target.value; draw(); } },
        h('option', { value: 'all', text: 'every target' }),
        D.targets.map((t) => h('option', { value: t, text: t }))));
    }
    filters.append(h('input', { type: 'search', placeholder: 'filter by name or check id', 'aria-label': 'filter', oninput: (e) => { state.q = e.target.value.trim().toLowerCase(); draw(); } }));

    function draw() {
      const shown = [];
      D.cases.forEach((c, i) => {
        if (state.outcome !== 'all' && c.outcome !== state.outcome) return;
        if (state.target !== 'all' && c.target !== state.target) return;
        if (state.q && !(c.name.toLowerCase().includes(state.q) || c.findings.some((f) => f.check.includes(state.q)))) return;
        shown.push(i);
      });
      const label = 'all cases' + (state.outcome !== 'all' ? ', ' + state.outcome : '') + (state.target !== 'all' ? ', ' + state.target : '');
      const rows = shown.map((i) => {
        const c = D.cases[i];
        const w = worstOf(c);
        const ttft = c.stream && c.stream.metrics.first_token_ms;
        const status = c.exchange && c.exchange.response ? c.exchange.response.status : '';
        return h('tr', { 'data-case': i, onclick: (e) => { if (!(e.target instanceof HTMLAnchorElement)) go('case=' + i); } },
          h('td', { class: 'num', text: i + 1 }),
          h('td', {}, h('a', { href: '#case=' + i, text: bare(c) })),
          h('td', { class: 'nowrap', text: c.target }),
          h('td', {}, badge(c.outcome)),
          h('td', { class: 'num', text: status }),
          h('td', { class: 'msg', title: w ? w.message : c.reason || '' },
            w ? h('span', { class: 'nowrap' }, badge(w.severity), ' ', h('code', { text: w.check }), c.findings.length > 1 ? h('span', { class: 'more', text: ' +' + (c.findings.length - 1) }) : null) : null,
            h('div', { text: w ? w.message : c.reason || '' })),
          h('td', { class: 'num', text: ttft != null ? fmtMs(ttft) : '' }),
          h('td', { class: 'num', text: c.outcome === 'skipped' ? '' : fmtMs(c.elapsed_ms) }));
      });
      root.replaceChildren(
        h('p', { class: 'count', text: plural(shown.length, 'case') + ' shown' }),
        h('div', { class: 'table-wrap' }, h('table', { class: 'list all-cases' },
          h('thead', {}, h('tr', {}, ['#', 'case', 'target', 'outcome', 'status', 'worst finding', 'first token', 'time'].map((t) => h('th', { text: t })))),
          h('tbody', {}, rows))));
      // A row clicked opens its case within the list as filtered.
      for (const tr of root.querySelectorAll('tr[data-case]')) {
        tr.addEventListener('click', () => { context = { label, hash: null, cases: shown }; }, true);
      }
    }
    draw();
  }

  chart();
  caseList();
  window.addEventListener('hashchange', route);
  route();
})();
