/* app.js: the tiersync dashboard. Vanilla JS, hand-drawn SVG, nothing
 * loaded from outside the node. It only reads the node's API (docs/API.md);
 * every number shown carries data-check/data-unit/data-indicator/
 * data-period/data-options/data-value so a test can compare it with the
 * API (tests/integration/dashboard_browser.sh). State lives in the URL
 * hash: #unit=343&ind=IN_TREATMENT&month=202603&lang=en. */
'use strict';

const T = {
  vi: {
    month: 'Tháng', indicator: 'Chỉ số', headline: 'Số liệu chính', trend: 'Xu hướng',
    plan: 'Tiến độ kế hoạch', breakdown: 'Phân tổ', children: 'Đơn vị trực thuộc',
    freshness: 'Tình trạng báo cáo', token: 'Mã đọc (token)', apply: 'Áp dụng',
    unit: 'Đơn vị', level: 'Cấp', value: 'Số liệu', share: 'Tỷ trọng', reported: 'Báo cáo',
    current: 'Đúng hạn', behind: 'Đang đồng bộ', late: 'Chậm báo cáo', never: 'Chưa báo cáo',
    own: 'Nhập trực tiếp tại đơn vị', noChildren: 'Không có đơn vị trực thuộc.',
    noPlan: 'Chưa có kế hoạch cho năm này.', noData: 'Chưa có số liệu.',
    noCats: 'Chỉ số này không phân tổ.', allCurrent: 'Mọi đơn vị đều báo cáo đúng hạn.',
    exact: 'Số liệu chính xác (có mã đọc)',
    rounded: 'Số liệu từ hồ sơ được làm tròn đến bội số của {k}',
    lateUnits: '{n} đơn vị chậm báo cáo', updated: 'Cập nhật lúc {t}', total: 'Tổng',
    year: 'Năm {y}', lastSeen: 'lần cuối {t}', via: 'qua {u}', target: 'kế hoạch',
    ofTarget: '{a} / {t}', error: 'Lỗi', units: '{n} đơn vị',
    report: 'Báo cáo', excel: 'Excel', merged: 'Đã sáp nhập vào {u} từ {d}',
  },
  en: {
    month: 'Month', indicator: 'Indicator', headline: 'Headline figures', trend: 'Trend',
    plan: 'Plan progress', breakdown: 'Breakdown', children: 'Units below',
    freshness: 'Reporting status', token: 'Read token', apply: 'Apply',
    unit: 'Unit', level: 'Level', value: 'Value', share: 'Share', reported: 'Reported',
    current: 'Current', behind: 'Catching up', late: 'Late', never: 'Never reported',
    own: 'Entered at this unit', noChildren: 'No units below this one.',
    noPlan: 'No plan for this year yet.', noData: 'No data yet.',
    noCats: 'This indicator has no breakdown.', allCurrent: 'Every unit is reporting on time.',
    exact: 'Exact values (read token)',
    rounded: 'Counts from records are rounded to multiples of {k}',
    lateUnits: '{n} units late', updated: 'Updated {t}', total: 'Total',
    year: 'Year {y}', lastSeen: 'last seen {t}', via: 'via {u}', target: 'target',
    ofTarget: '{a} / {t}', error: 'Error', units: '{n} units',
    report: 'Report', excel: 'Excel', merged: 'Merged into {u} from {d}',
  },
};

/* Labels for option codes and level names of the default catalog; any other
 * code is shown as it is. */
const LABELS = {
  vi: {
    compulsory: 'Bắt buộc', methadone: 'Methadone', voluntary_facility: 'Tự nguyện (hợp đồng)',
    voluntary_community: 'Gia đình, cộng đồng', M: 'Nam', F: 'Nữ', unknown: 'Không rõ',
    completed: 'Hoàn thành', dropped_out: 'Bỏ dở', transferred: 'Chuyển đi',
    vocational_training: 'Học nghề', job_placement: 'Giới thiệu việc làm',
    preferential_loan: 'Vay vốn ưu đãi', health_care: 'Chăm sóc y tế', other: 'Khác',
    province: 'Tỉnh', district: 'Huyện', commune: 'Xã', national: 'Quốc gia',
  },
  en: {
    compulsory: 'Compulsory', methadone: 'Methadone', voluntary_facility: 'Voluntary (contract)',
    voluntary_community: 'Home / community', M: 'Male', F: 'Female', unknown: 'Unknown',
    completed: 'Completed', dropped_out: 'Dropped out', transferred: 'Transferred',
    vocational_training: 'Vocational training', job_placement: 'Job placement',
    preferential_loan: 'Preferential loan', health_care: 'Health care', other: 'Other',
    province: 'Province', district: 'District', commune: 'Commune', national: 'National',
  },
};
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SVGNS = 'http://www.w3.org/2000/svg';
const PALETTE = ['#0f766e', '#2563eb', '#d97706', '#7c3aed', '#db2777', '#059669', '#64748b'];

const S = {lang: 'vi', info: null, catalog: null, units: {}, unit: null, month: null, ind: null,
           token: sessionStorage.getItem('tiersync-token') || ''};

/* ---- small helpers ---- */

const $ = (id) => document.getElementById(id);
function t(key, vars) {
  let s = (T[S.lang] && T[S.lang][key]) || T.en[key] || key;
  for (const k in vars || {}) s = s.split('{' + k + '}').join(vars[k]);
  return s;
}
const label = (code) => (LABELS[S.lang] && LABELS[S.lang][code]) || code;
const indLabel = (ind) => (ind.label && ind.label[S.lang]) || ind.code;
const catLabel = (cat) => (cat.label && cat.label[S.lang]) || cat.name;
const indicator = (code) => S.catalog.indicators.find((i) => i.code === code);
const category = (name) => S.catalog.categories.find((c) => c.name === name);

function el(tag, attrs, parent, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function svg(tag, attrs, parent, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function fmt(v, ind) {
  if (v === null || v === undefined) return '—';
  if (!ind || ind.kind !== 'ratio') return new Intl.NumberFormat(S.lang === 'vi' ? 'vi-VN' : 'en-US').format(v);
  /* a ratio: always one decimal, a percentage marked as one */
  const s = new Intl.NumberFormat(S.lang === 'vi' ? 'vi-VN' : 'en-US',
                                  {minimumFractionDigits: 1, maximumFractionDigits: 1}).format(v);
  return ind.factor === 100 ? s + ' %' : s;
}
/* a figure as drawn: a ratio without a value (null: no denominator) is not */
const num = (v) => (typeof v === 'number' ? v : 0);

/* Marks an element as showing the API's value for a cell selection. */
function mark(e, check, unit, ind, period, options, value) {
  e.setAttribute('data-check', check);
  e.setAttribute('data-unit', unit);
  e.setAttribute('data-indicator', ind);
  e.setAttribute('data-period', period);
  e.setAttribute('data-options', options || '');
  e.setAttribute('data-value', value === null || value === undefined ? '' : String(value));
  return e;
}

function monthLabel(p, short) {
  const y = p.slice(0, 4), m = parseInt(p.slice(4, 6), 10);
  if (S.lang === 'vi') return short ? 'T' + m : 'Tháng ' + m + '/' + y;
  return short ? MONTHS_EN[m - 1] : MONTHS_EN[m - 1] + ' ' + y;
}
const periodLabel = (p) => (p.length === 4 ? t('year', {y: p}) : monthLabel(p));
const periodOf = (ind) => (ind.period === 'year' ? S.month.slice(0, 4) : S.month);
function timeLabel(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(S.lang === 'vi' ? 'vi-VN' : 'en-GB',
                                      {dateStyle: 'short', timeStyle: 'short'});
}

async function api(path, params) {
  const q = new URLSearchParams();
  for (const k in params || {}) if (params[k] !== null && params[k] !== undefined && params[k] !== '') q.set(k, params[k]);
  const headers = S.token ? {Authorization: 'Bearer ' + S.token} : {};
  const r = await fetch(path + (q.toString() ? '?' + q.toString() : ''), {headers, cache: 'no-store'});
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error((body && body.error) || r.status + ' ' + r.statusText);
  return body;
}

/* ---- state in the URL hash ---- */

function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  S.lang = h.get('lang') || localStorage.getItem('tiersync-lang') || 'vi';
  if (!T[S.lang]) S.lang = 'vi';
  S.unit = h.get('unit') || null;
  S.ind = h.get('ind') || null;
  S.month = h.get('month') || null;
}
function writeHash() {
  const h = new URLSearchParams({unit: S.unit, ind: S.ind, month: S.month, lang: S.lang});
  history.replaceState(null, '', '#' + h.toString());
}
function go(changes) {
  Object.assign(S, changes);
  if (changes.lang) localStorage.setItem('tiersync-lang', changes.lang);
  writeHash();
  render();
}

/* ---- static texts, selectors, breadcrumbs ---- */

/* The monthly report of the unit and month in view, and the Excel workbook
 * of its year. Plain links for a reader without a token; with one, the
 * file is fetched with the token and opened or saved from memory. */
function outputLinks() {
  const rep = $('report-link'), xl = $('xlsx-link');
  rep.href = '/report?' + new URLSearchParams({unit: S.unit, period: S.month, lang: S.lang});
  xl.href = '/api/export?' + new URLSearchParams({format: 'xlsx', unit: S.unit, period: S.month.slice(0, 4)});
  xl.setAttribute('download', 'tiersync-' + S.unit + '-' + S.month.slice(0, 4) + '.xlsx');
}

async function openWithToken(ev, a, save) {
  if (!S.token) return;
  ev.preventDefault();
  const w = save ? null : window.open('', '_blank');
  try {
    const r = await fetch(a.href, {headers: {Authorization: 'Bearer ' + S.token}, cache: 'no-store'});
    if (!r.ok) throw new Error(r.status + ' ' + r.statusText);
    const url = URL.createObjectURL(await r.blob());
    if (w) { w.location.href = url; return; }
    const d = el('a', {href: url, download: a.getAttribute('download')}, document.body);
    d.click();
    d.remove();
  } catch (e) {
    if (w) w.close();
    $('error').hidden = false;
    $('error').textContent = t('error') + ': ' + e.message;
  }
}

function renderChrome() {
  document.documentElement.lang = S.lang;
  document.querySelectorAll('[data-i18n]').forEach((e) => { e.textContent = t(e.getAttribute('data-i18n')); });
  $('lang-vi').classList.toggle('on', S.lang === 'vi');
  $('lang-en').classList.toggle('on', S.lang === 'en');
  const u = S.units[S.info.code] || {};
  $('node-name').textContent = S.info.name || S.info.code;
  $('node-sub').textContent = label(S.info.level) + ' · ' + S.info.code + ' · ' + t('units', {n: S.info.units});
  $('version').textContent = S.info.version + ' · ' + S.catalog.id;
  document.title = (u.name || S.info.code) + ' · tiersync';
  const access = $('access');
  access.textContent = S.info.access === 'exact' ? t('exact') : t('rounded', {k: S.info.small_cell_k});
  access.className = 'badge ' + (S.info.access === 'exact' ? 'ok' : 'info');

  const ms = $('month');
  ms.textContent = '';
  const y = parseInt(S.info.month.slice(0, 4), 10), m = parseInt(S.info.month.slice(4), 10);
  for (let i = 0; i < 24; i++) {
    const k = y * 12 + m - 1 - i, p = String(Math.floor(k / 12)) + String(k % 12 + 1).padStart(2, '0');
    el('option', {value: p}, ms, monthLabel(p));
  }
  ms.value = S.month;
  outputLinks();
  const is = $('indicator');
  is.textContent = '';
  for (const ind of headlineIndicators()) el('option', {value: ind.code}, is, indLabel(ind));
  is.value = S.ind;

  const nav = $('crumbs');
  nav.textContent = '';
  const path = [];
  for (let c = S.unit, d = 0; c && S.units[c] && d < 32; c = S.units[c].parent, d++) {
    path.unshift(c);
    if (c === S.info.code) break;
  }
  path.forEach((c, i) => {
    if (i) el('span', {class: 'sep'}, nav, '›');
    const a = el('a', {href: '#', 'data-unit': c}, nav, S.units[c].name || c);
    if (c === S.unit) a.className = 'here';
    a.addEventListener('click', (ev) => { ev.preventDefault(); go({unit: c}); });
  });
}

const headlineIndicators = () => S.catalog.indicators.filter((i) => !i.target_of);

/* ---- sections ---- */

async function renderHeadline(box) {
  const inds = headlineIndicators();
  const res = await Promise.all(inds.map((ind) =>
    api('/api/totals', {unit: S.unit, indicator: ind.code, period: periodOf(ind)})));
  box.textContent = '';
  inds.forEach((ind, i) => {
    const card = el('button', {type: 'button', class: 'card' + (ind.code === S.ind ? ' on' : '')}, box);
    el('div', {class: 'card-label'}, card, indLabel(ind));
    const v = el('div', {class: 'card-value'}, card, fmt(res[i].total, ind));
    mark(v, 'total', S.unit, ind.code, periodOf(ind), '', res[i].total);
    el('div', {class: 'card-period'}, card, periodLabel(periodOf(ind)));
    card.addEventListener('click', () => go({ind: ind.code}));
  });
  $('headline-period').textContent = '· ' + (S.units[S.unit].name || S.unit) + ' · ' + monthLabel(S.month);
  return res;
}

function renderTrend(box, series, ind) {
  box.textContent = '';
  $('trend-title').textContent = '· ' + indLabel(ind);
  const pts = series.points, W = 640, H = 250, L = 44, R = 12, TOP = 22, B = 40;
  const max = Math.max(1, ...pts.map((p) => num(p.value)));
  const step = Math.pow(10, Math.floor(Math.log10(Math.max(1, max / 4))));
  const nice = [1, 2, 2.5, 5, 10].map((f) => f * step).filter(Number.isInteger).find((s) => max / s <= 5) || step * 10;
  const top = Math.ceil(max / nice) * nice;
  const s = svg('svg', {viewBox: `0 0 ${W} ${H}`, class: 'svgchart', role: 'img'}, box);
  const y = (v) => TOP + (H - TOP - B) * (1 - v / top);
  for (let g = 0; g <= top + 1e-9; g += nice) {
    svg('line', {x1: L, x2: W - R, y1: y(g), y2: y(g), class: 'grid'}, s);
    svg('text', {x: L - 6, y: y(g) + 4, class: 'axis', 'text-anchor': 'end'}, s, fmt(g));
  }
  const bw = (W - L - R) / pts.length;
  pts.forEach((p, i) => {
    const x = L + i * bw, h = y(0) - y(num(p.value));
    if (num(p.value) > 0)
      svg('rect', {x: x + bw * 0.18, y: y(num(p.value)), width: bw * 0.64, height: Math.max(h, 1),
                   rx: 3, class: 'bar' + (p.period === periodOf(ind) ? ' sel' : '')}, s);
    if (p.value !== 0 && p.value !== null) {
      const v = svg('text', {x: x + bw / 2, y: y(num(p.value)) - 6, class: 'val', 'text-anchor': 'middle'}, s, fmt(p.value, ind));
      mark(v, 'total', series.unit, ind.code, p.period, '', p.value);
    }
    const lab = p.period.length === 4 ? p.period : monthLabel(p.period, true);
    svg('text', {x: x + bw / 2, y: H - B + 16, class: 'axis', 'text-anchor': 'middle'}, s, lab);
    if (p.period.length === 6 && (i === 0 || p.period.endsWith('01')))
      svg('text', {x: x + bw / 2, y: H - B + 31, class: 'axis year', 'text-anchor': 'middle'}, s, p.period.slice(0, 4));
  });
  svg('line', {x1: L, x2: W - R, y1: y(0), y2: y(0), class: 'base'}, s);
}

function hbars(box, rows, unit, ind, period, cat) {
  const W = 380, RH = 26, LW = 150, VW = 56, H = rows.length * RH + 4;
  const max = Math.max(1, ...rows.map((r) => num(r.value)));
  const s = svg('svg', {viewBox: `0 0 ${W} ${H}`, class: 'svgchart hbars', role: 'img'}, box);
  rows.forEach((r, i) => {
    const yy = i * RH + 2, w = (W - LW - VW) * num(r.value) / max;
    svg('text', {x: 0, y: yy + 16, class: 'lab'}, s, label(r.option));
    svg('rect', {x: LW, y: yy + 4, width: W - LW - VW, height: RH - 10, rx: 4, class: 'track'}, s);
    if (w > 0)
      svg('rect', {x: LW, y: yy + 4, width: Math.max(w, 2), height: RH - 10, rx: 4,
                   fill: PALETTE[i % PALETTE.length]}, s);
    const v = svg('text', {x: W, y: yy + 16, class: 'val', 'text-anchor': 'end'}, s, fmt(r.value, ind));
    mark(v, 'total', unit, ind.code, period, cat + '=' + r.option, r.value);
  });
}

function renderBreakdown(box, data, ind) {
  box.textContent = '';
  $('breakdown-title').textContent = '· ' + indLabel(ind) + ' · ' + periodLabel(periodOf(ind));
  if (!ind.categories.length) { el('p', {class: 'muted'}, box, t('noCats')); return; }
  for (const name of ind.categories) {
    const col = el('div', {class: 'bd'}, box);
    el('h3', {}, col, catLabel(category(name)));
    hbars(col, data.breakdown[name], data.unit, ind, data.period, name);
  }
}

function renderChildren(table, data, fresh, ind) {
  table.textContent = '';
  $('children-title').textContent = '· ' + indLabel(ind) + ' · ' + periodLabel(data.period);
  const kids = data.children;
  if (!kids.length) { el('caption', {class: 'muted'}, table, t('noChildren')); return; }
  const head = el('tr', {}, el('thead', {}, table));
  for (const h of ['unit', 'level', 'value', 'share', 'reported']) el('th', {class: h === 'value' ? 'num' : ''}, head, t(h));
  const body = el('tbody', {}, table);
  const total = Math.max(1, num(data.unit.value));
  const state = {};
  for (const f of fresh.units) state[f.code] = f;
  for (const k of kids) {
    const f = state[k.code] || k.freshness || {};
    const late = !k.merged_into && (f.state === 'late' || f.state === 'never');
    const cls = 'unit-row' + (late ? ' late' : f.state === 'behind' ? ' behind' : '');
    const tr = el('tr', {class: cls, 'data-unit': k.code, tabindex: 0}, body);
    const td = el('td', {}, tr);
    el('span', {class: 'uname'}, td, k.name || k.code);
    if (k.name && k.name !== k.code) el('span', {class: 'ucode'}, td, k.code);
    el('td', {}, tr, k.level ? label(k.level) : '—');
    mark(el('td', {class: 'num'}, tr, fmt(k.value, ind)), 'total', k.code, ind.code, data.period, data.options_str, k.value);
    const share = el('td', {class: 'share'}, tr);
    const s = svg('svg', {viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'mini'}, share);
    svg('rect', {x: 0, y: 0, width: 100, height: 10, rx: 2, class: 'track'}, s);
    /* a share of the unit's total; a percentage is its own bar */
    const w = ind.kind === 'ratio' ? (ind.factor === 100 ? num(k.value) : 0) : 100 * num(k.value) / total;
    svg('rect', {x: 0, y: 0, width: Math.max(0, Math.min(100, w)), height: 10, rx: 2,
                 class: 'fill'}, s);
    const st = el('td', {}, tr);
    if (k.merged_into) {  /* history: its link is closed, its periods from the date count there */
      const into = S.units[k.merged_into];
      el('span', {class: 'state merged'}, st, t('merged', {u: (into && into.name) || k.merged_into, d: k.merged_on}));
    } else {
      el('span', {class: 'state ' + (f.state || 'never')}, st, t(f.state || 'never'));
    }
    if (f.last_seen) el('span', {class: 'ucode'}, st, t('lastSeen', {t: timeLabel(f.last_seen)}));
    const open = () => go({unit: k.code});
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
  }
  if (num(data.unit.own) !== 0) {
    const tr = el('tr', {class: 'own'}, body);
    el('td', {colspan: 2}, tr, t('own'));
    mark(el('td', {class: 'num'}, tr, fmt(data.unit.own, ind)), 'own', data.unit.code, ind.code, data.period, data.options_str, data.unit.own);
    el('td', {colspan: 2}, tr);
  }
}

function renderPlan(box, plan) {
  box.textContent = '';
  $('plan-year').textContent = '· ' + plan.year;
  const plans = plan.plans.filter((p) => num(p.total.target) > 0);
  if (!plans.length) { el('p', {class: 'muted'}, box, t('noPlan')); return; }
  for (const p of plans) {
    const ind = indicator(p.actual_indicator), ratio = ind.kind === 'ratio';
    el('h3', {}, box, indLabel(ind));
    const rows = [{options: {}, total: true, ...p.total}, ...p.rows];
    for (const r of rows) {
      const opt = Object.entries(r.options).map(([k, v]) => k + '=' + v).join(',');
      const row = el('div', {class: 'prow' + (r.total ? ' total' : '')}, box);
      const name = r.total ? t('total') : Object.values(r.options).map(label).join(', ');
      el('div', {class: 'plab'}, row, name);
      const pct = typeof r.percent === 'number' ? r.percent : null;
      const s = svg('svg', {viewBox: '0 0 200 12', preserveAspectRatio: 'none', class: 'pbar'}, row);
      svg('rect', {x: 0, y: 0, width: 200, height: 12, rx: 6, class: 'track'}, s);
      /* a count fills up to its target; a percentage is drawn on 0-100 % with its target marked */
      const fill = ratio ? (typeof r.actual === 'number' ? r.actual : null) : pct;
      if (fill !== null) svg('rect', {x: 0, y: 0, width: Math.max(0, Math.min(200, 2 * fill)), height: 12, rx: 6,
                                      class: pct !== null && pct >= 100 ? 'fill done' : 'fill'}, s);
      if (ratio && typeof r.target === 'number')
        svg('rect', {x: Math.max(0, Math.min(198, 2 * r.target - 1)), y: -1, width: 2, height: 14, class: 'goal'}, s);
      const txt = el('div', {class: 'pval'}, row);
      const a = el('span', {}, txt, fmt(r.actual, ind));
      el('span', {class: 'muted'}, txt, ' / ');
      const tg = el('span', {}, txt, ratio && typeof r.target === 'number' ? fmt(r.target) + (ind.factor === 100 ? ' %' : '') : fmt(r.target));
      el('span', {class: 'pct'}, txt, pct === null || ratio ? '' : ' ' + pct.toLocaleString(S.lang === 'vi' ? 'vi-VN' : 'en-US') + '%');
      mark(a, 'plan-actual', plan.unit, p.target_indicator, plan.year, opt, r.actual);
      mark(tg, 'plan-target', plan.unit, p.target_indicator, plan.year, opt, r.target);
      if (r.total) { a.setAttribute('data-row', 'total'); tg.setAttribute('data-row', 'total'); }
    }
  }
}

function renderFreshness(box, fresh) {
  box.textContent = '';
  const late = fresh.units.filter((u) => u.state !== 'current' && !u.merged_into);
  const nlate = late.filter((u) => u.state === 'late' || u.state === 'never').length;
  const badge = $('late-badge');
  badge.hidden = nlate === 0;
  badge.textContent = t('lateUnits', {n: nlate});
  const sum = el('div', {class: 'fsum'}, box);
  for (const k of ['current', 'behind', 'late', 'never']) {
    const c = el('div', {class: 'fcount ' + k}, sum);
    el('b', {}, c, String(fresh.summary[k]));
    el('span', {}, c, t(k));
  }
  if (!late.length) { el('p', {class: 'muted'}, box, fresh.units.length ? t('allCurrent') : t('noChildren')); return; }
  const ul = el('ul', {class: 'latelist'}, box);
  for (const u of late) {
    const li = el('li', {class: u.state, 'data-unit': u.code}, ul);
    el('span', {class: 'uname'}, li, u.name || u.code);
    el('span', {class: 'ucode'}, li, (u.name && u.name !== u.code ? u.code : '') + (u.direct ? '' : ' · ' + t('via', {u: u.via})));
    el('span', {class: 'state ' + u.state}, li, t(u.state));
    if (u.last_seen) el('span', {class: 'ucode'}, li, t('lastSeen', {t: timeLabel(u.last_seen)}));
  }
}

/* ---- loading ---- */

async function loadBase() {
  [S.info, S.catalog] = await Promise.all([api('/api/info'), api('/api/catalog')]);
  const units = await api('/api/units');
  S.units = {};
  for (const u of units.units) S.units[u.code] = u;
  if (!S.unit || !S.units[S.unit]) S.unit = S.info.code;
  if (!S.month || !/^\d{6}$/.test(S.month)) S.month = S.info.month;
}

let renderSeq = 0;
async function render() {
  const seq = ++renderSeq;
  document.body.setAttribute('data-ready', '0');
  const err = $('error');
  try {
    await loadBase();
    if (!S.ind || !indicator(S.ind) || indicator(S.ind).target_of) S.ind = null;
    renderChrome();
    const heads = await renderHeadline($('headline'));
    if (!S.ind) { /* first visit: the first indicator with a figure */
      const i = heads.findIndex((r) => r.total !== 0 && r.total !== null);
      go({ind: headlineIndicators()[Math.max(0, i)].code});
      return;
    }
    const ind = indicator(S.ind), period = periodOf(ind);
    const [series, kids, bd, plan, fresh] = await Promise.all([
      api('/api/series', {unit: S.unit, indicator: ind.code, to: period}),
      api('/api/children', {unit: S.unit, indicator: ind.code, period}),
      ind.categories.length ? api('/api/totals', {unit: S.unit, indicator: ind.code, period, by: ind.categories.join(',')}) : null,
      api('/api/plan', {unit: S.unit, year: S.month.slice(0, 4)}),
      api('/api/freshness', {unit: S.unit}),
    ]);
    if (seq !== renderSeq) return;
    kids.options_str = '';
    renderTrend($('trend'), series, ind);
    renderBreakdown($('breakdown'), bd, ind);
    renderChildren($('children'), kids, fresh, ind);
    renderPlan($('plan'), plan);
    renderFreshness($('freshness'), fresh);
    err.hidden = true;
    $('updated').textContent = t('updated', {t: new Date().toLocaleTimeString(S.lang === 'vi' ? 'vi-VN' : 'en-GB')});
  } catch (e) {
    err.hidden = false;
    err.textContent = t('error') + ': ' + e.message;
  }
  if (seq === renderSeq) document.body.setAttribute('data-ready', '1');
}

document.addEventListener('DOMContentLoaded', () => {
  readHash();
  for (const b of document.querySelectorAll('.lang button')) b.addEventListener('click', () => go({lang: b.getAttribute('data-lang')}));
  $('month').addEventListener('change', (ev) => go({month: ev.target.value}));
  $('indicator').addEventListener('change', (ev) => go({ind: ev.target.value}));
  $('report-link').addEventListener('click', (ev) => openWithToken(ev, $('report-link'), false));
  $('xlsx-link').addEventListener('click', (ev) => openWithToken(ev, $('xlsx-link'), true));
  $('token').value = S.token;
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    S.token = $('token').value.trim();
    if (S.token) sessionStorage.setItem('tiersync-token', S.token); else sessionStorage.removeItem('tiersync-token');
    render();
  });
  window.addEventListener('hashchange', () => { readHash(); render(); });
  render();
  setInterval(render, 60000);
});
