/* register.js: the commune's case register (served at /register by a node
 * that holds records). Talks only to this node's /api/session,
 * /api/records, /api/users and /api/access-log (docs/API.md).
 *
 * Rules kept here: every value is put in the page with textContent (never
 * parsed as HTML); nothing is written to localStorage, sessionStorage,
 * IndexedDB or cookies (the session cookie is the server's, HttpOnly); the
 * session's CSRF token lives in this script's memory only and goes with
 * every change in X-CSRF-Token. Views by URL hash: #search, #rec/TYPE/ID,
 * #new/TYPE[/OWNER_ID], #edit/TYPE/ID, #import, #admin. */
'use strict';

const T = {
  vi: {
    title: 'Sổ hồ sơ', login: 'Đăng nhập', user: 'Tên đăng nhập', password: 'Mật khẩu',
    logout: 'Đăng xuất', search: 'Tìm kiếm', newPerson: 'Thêm người', import: 'Nhập CSV',
    admin: 'Quản trị', find: 'Tìm', searchHint: 'Họ tên, mã hồ sơ hoặc số CCCD (có dấu hay không dấu đều được)',
    type: 'Loại hồ sơ', noResults: 'Không tìm thấy hồ sơ nào.', more: 'Chỉ hiện {n} kết quả đầu: hãy tìm cụ thể hơn.',
    edit: 'Sửa', del: 'Xoá', save: 'Lưu', cancel: 'Huỷ', add: 'Thêm {t}', back: 'Quay lại',
    saved: 'Đã lưu {t} {id}.', deleted: 'Đã xoá {t} {id}.', unchanged: 'Không có gì thay đổi.',
    confirmDel: 'Xoá {t} {id}? Thao tác này không hoàn tác được.', refused: 'Chưa lưu: hãy sửa các lỗi bên dưới.',
    importTitle: 'Nhập danh sách CSV', file: 'Tệp CSV (UTF-8, dòng đầu là tên cột)', upload: 'Tải lên',
    importDone: 'Đã nhập {type}: {ins} thêm mới, {upd} cập nhật, {same} không đổi.',
    importRefused: 'Tệp bị từ chối, không có gì thay đổi. Các dòng lỗi:', line: 'Dòng', field: 'Trường', reason: 'Lý do',
    users: 'Tài khoản', role: 'Vai trò', created: 'Tạo lúc', addUser: 'Thêm tài khoản', newPassword: 'Mật khẩu mới',
    setPassword: 'Đặt mật khẩu', log: 'Nhật ký truy cập', time: 'Thời gian', address: 'Địa chỉ', action: 'Thao tác',
    record: 'Hồ sơ', filter: 'Lọc', viewer: 'Tài khoản "xem" chỉ được xem bảng số liệu, không xem hồ sơ.',
    dashboard: 'Mở bảng số liệu', loginFailed: 'Sai tên đăng nhập hoặc mật khẩu.', wait: 'Đăng nhập sai nhiều lần: hãy đợi {n} giây.',
    expired: 'Phiên làm việc đã hết hạn: hãy đăng nhập lại.', owned: 'Hồ sơ liên quan', none: '(chưa có)',
    role_admin: 'quản trị', role_officer: 'cán bộ', role_viewer: 'xem', general: 'Lỗi chung',
    person: 'người', episode: 'đợt điều trị', support: 'hỗ trợ', listed: '{n} hồ sơ',
  },
  en: {
    title: 'Case register', login: 'Log in', user: 'User name', password: 'Password',
    logout: 'Log out', search: 'Search', newPerson: 'Add person', import: 'Import CSV',
    admin: 'Admin', find: 'Find', searchHint: 'Name, record id or national ID (with or without diacritics)',
    type: 'Record type', noResults: 'No records found.', more: 'Only the first {n} shown: search more precisely.',
    edit: 'Edit', del: 'Delete', save: 'Save', cancel: 'Cancel', add: 'Add {t}', back: 'Back',
    saved: 'Saved {t} {id}.', deleted: 'Deleted {t} {id}.', unchanged: 'Nothing changed.',
    confirmDel: 'Delete {t} {id}? This cannot be undone.', refused: 'Not saved: fix the problems below.',
    importTitle: 'Import a CSV list', file: 'CSV file (UTF-8, first line names the columns)', upload: 'Upload',
    importDone: 'Imported {type}: {ins} new, {upd} updated, {same} unchanged.',
    importRefused: 'The file was refused and nothing changed. Refused lines:', line: 'Line', field: 'Field', reason: 'Reason',
    users: 'Accounts', role: 'Role', created: 'Created', addUser: 'Add account', newPassword: 'New password',
    setPassword: 'Set password', log: 'Access log', time: 'Time', address: 'Address', action: 'Action',
    record: 'Record', filter: 'Filter', viewer: 'A viewer account sees the dashboard only, never a record.',
    dashboard: 'Open the dashboard', loginFailed: 'Wrong user name or password.', wait: 'Too many failed logins: wait {n} seconds.',
    expired: 'The session has ended: log in again.', owned: 'Related records', none: '(none yet)',
    role_admin: 'admin', role_officer: 'officer', role_viewer: 'viewer', general: 'General',
    person: 'person', episode: 'treatment episode', support: 'support', listed: '{n} records',
  },
};

/* Field and option names of the drug-treatment catalog; another catalog's
 * names show as they are (or with its category labels). */
const NAMES = {
  vi: {
    id: 'Mã hồ sơ', full_name: 'Họ và tên', national_id: 'Số CCCD', birth_date: 'Ngày sinh', sex: 'Giới tính',
    address: 'Địa chỉ', registered_on: 'Ngày lập hồ sơ', confirmed_on: 'Ngày xác định nghiện',
    deregistered_on: 'Ngày thôi quản lý', person_id: 'Mã người', modality: 'Hình thức điều trị',
    start_on: 'Ngày bắt đầu', end_on: 'Ngày kết thúc', outcome: 'Kết quả', kind: 'Hình thức hỗ trợ',
    given_on: 'Ngày hỗ trợ', M: 'Nam', F: 'Nữ', compulsory: 'Cai nghiện bắt buộc', methadone: 'Methadone',
    voluntary_facility: 'Tự nguyện tại cơ sở', voluntary_community: 'Tự nguyện tại cộng đồng',
    completed: 'Hoàn thành', dropped_out: 'Bỏ dở', transferred: 'Chuyển đi',
    vocational_training: 'Dạy nghề', job_placement: 'Giới thiệu việc làm', preferential_loan: 'Vay vốn ưu đãi',
    health_care: 'Chăm sóc y tế', other: 'Khác',
    search: 'tìm kiếm', login: 'đăng nhập', 'login-failed': 'đăng nhập sai', logout: 'đăng xuất', read: 'xem', add: 'thêm',
    update: 'sửa', delete: 'xoá', import: 'nhập CSV', 'user-add': 'thêm tài khoản', 'user-remove': 'xoá tài khoản',
    'user-passwd': 'đặt mật khẩu', 'log-read': 'xem nhật ký',
  },
  en: {
    id: 'Record id', full_name: 'Full name', national_id: 'National ID', birth_date: 'Date of birth', sex: 'Sex',
    address: 'Address', registered_on: 'Registered on', confirmed_on: 'Addiction confirmed on',
    deregistered_on: 'Deregistered on', person_id: 'Person id', modality: 'Treatment modality',
    start_on: 'Start date', end_on: 'End date', outcome: 'Outcome', kind: 'Kind of support', given_on: 'Given on',
    M: 'Male', F: 'Female', compulsory: 'Compulsory', methadone: 'Methadone',
    voluntary_facility: 'Voluntary, in a facility', voluntary_community: 'Voluntary, in the community',
    completed: 'Completed', dropped_out: 'Dropped out', transferred: 'Transferred',
    vocational_training: 'Vocational training', job_placement: 'Job placement', preferential_loan: 'Preferential loan',
    health_care: 'Health care', other: 'Other',
  },
};

/* The server's reasons (English) in Vietnamese: pattern, then the text. */
const REASONS_VI = [
  [/^missing \(required\)$/, () => 'Bắt buộc phải nhập.'],
  [/^missing \(every record needs one\)$/, () => 'Thiếu mã hồ sơ.'],
  [/^not a date YYYY-MM-DD.*$/, () => 'Không phải ngày hợp lệ (năm-tháng-ngày).'],
  [/^after today \((.*)\)$/, (m) => 'Sau ngày hôm nay (' + m[1] + ').'],
  [/^(?:unknown|not an allowed) value.*\(allowed: (.*)\)$/, (m) => 'Giá trị không hợp lệ (được chọn: ' + m[1] + ').'],
  [/^before (\S+) \(an interval cannot end before it starts\)$/, (m) => 'Trước ' + nameOf(m[1]) + ': không thể kết thúc trước khi bắt đầu.'],
  [/^missing: required when (\S+) is set.*$/, (m) => 'Bắt buộc khi đã nhập ' + nameOf(m[1]) + '.'],
  [/^given without (\S+):.*$/, (m) => 'Chỉ nhập khi đã có ' + nameOf(m[1]) + '.'],
  [/^a (\S+) with id (.*) already exists.*$/, (m) => 'Đã có ' + t(m[1]) + ' với mã ' + m[2] + '.'],
  [/^no (\S+) with id (.*?)( \(add or import it first\))?$/, (m) => 'Không có ' + t(m[1]) + ' với mã ' + m[2] + '.'],
  [/^(.*) still has records \((.*)\):.*$/, (m) => m[1] + ' còn hồ sơ liên quan (' + m[2] + '): hãy xoá chúng trước.'],
  [/^longer than (\d+) bytes$/, (m) => 'Quá dài (tối đa ' + m[1] + ' byte).'],
  [/^contains a control character.*$/, () => 'Có ký tự điều khiển (xuống dòng, tab).'],
  [/^unknown field '(.*)'.*$/, (m) => 'Trường không có trong danh mục: ' + m[1] + '.'],
  [/^unknown column '(.*?)'.*$/, (m) => 'Cột không có trong danh mục: ' + m[1] + '.'],
  [/^required column missing from the header$/, () => 'Dòng tiêu đề thiếu cột bắt buộc này.'],
  [/^(\d+) fields, the header has (\d+)$/, (m) => 'Có ' + m[1] + ' cột, dòng tiêu đề có ' + m[2] + '.'],
  [/^(.*) appears twice.*$/, (m) => 'Mã ' + m[1] + ' xuất hiện hai lần.'],
  [/^must be a string$/, () => 'Phải là chữ.'],
];

const S = {lang: 'vi', session: null, types: null, view: null};
const $ = (id) => document.getElementById(id);

function t(key, vars) {
  let s = (T[S.lang] && T[S.lang][key]) || T.en[key] || key;
  for (const k in vars || {}) s = s.split('{' + k + '}').join(String(vars[k]));
  return s;
}

/* A record type's name as a heading: its first letter in capitals. */
function cap(s) { return s ? s.charAt(0).toLocaleUpperCase(S.lang) + s.slice(1) : s; }

function typeOf(name) { return (S.types || []).find((x) => x.name === name); }
function fieldOf(type, name) { const ty = typeOf(type); return ty && ty.fields.find((f) => f.name === name); }

/* A field's or an option's name in the officer's language: the catalog's
 * label first, then the page's own names, else the name itself. */
function nameOf(name, field) {
  if (field && field.label && field.label[S.lang]) return field.label[S.lang];
  return (NAMES[S.lang] && NAMES[S.lang][name]) || name;
}

function reason(r) {
  if (S.lang !== 'vi') return r;
  for (const [re, fn] of REASONS_VI) {
    const m = re.exec(r);
    if (m) return fn(m);
  }
  return r;
}

/* el('tag', {attr: v, on: {click: fn}}, child...): children are nodes or text. */
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat(Infinity)) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

function show(msg, isError) {
  const box = $(isError ? 'error' : 'notice');
  $(isError ? 'notice' : 'error').hidden = true;
  box.textContent = msg || '';
  box.hidden = !msg;
}

async function api(method, path, body, type) {
  const headers = {};
  if (method !== 'GET' && S.session) headers['X-CSRF-Token'] = S.session.csrf;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = type || 'application/json';
    payload = type ? body : JSON.stringify(body);
  }
  const r = await fetch(path, {method, headers, body: payload, credentials: 'same-origin', cache: 'no-store'});
  let j = {};
  try { j = await r.json(); } catch (e) { j = {error: 'HTTP ' + r.status}; }
  if (r.status === 401 && path !== '/api/session' && S.session) {
    S.session = null;
    show(t('expired'), true);
    render();
  }
  return {status: r.status, json: j, retry: r.headers.get('Retry-After')};
}

/* ---- frame ---- */

function frame() {
  document.documentElement.lang = S.lang;
  document.title = t('title') + ' — tiersync';
  $('title').textContent = t('title');
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  $('lang-vi').classList.toggle('on', S.lang === 'vi');
  $('lang-en').classList.toggle('on', S.lang === 'en');
  const s = S.session;
  $('nav').hidden = !s || s.role === 'viewer';
  $('nav-admin').hidden = !s || s.role !== 'admin';
  $('logout').hidden = !s;
  $('who').textContent = s ? s.user + ' (' + t('role_' + s.role) + ')' : '';
  $('node-sub').textContent = s ? s.name + ' · ' + s.unit : '';
  const v = (location.hash.slice(1) || 'search').split('/')[0];
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('on', a.getAttribute('href') === '#' + v);
}

function view(...kids) {
  const m = $('view');
  m.replaceChildren(...kids);
  document.body.dataset.ready = '1';
  document.body.dataset.view = S.view || '';
}

/* ---- login ---- */

function loginView() {
  S.view = 'login';
  const user = el('input', {id: 'login-user', name: 'user', autocomplete: 'username', required: true});
  const pass = el('input', {id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true});
  const form = el('form', {class: 'card login', id: 'login-form', on: {submit: async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/api/session', {user: user.value, password: pass.value});
    pass.value = '';
    if (r.status === 200) {
      S.session = r.json;
      show('');
      await start();
    } else if (r.status === 429) {
      show(t('wait', {n: r.retry || '?'}), true);
    } else {
      show(r.status === 401 ? t('loginFailed') : r.json.error, true);
    }
  }}},
  el('h2', {}, t('login')),
  el('div', {class: 'field'}, el('label', {for: 'login-user'}, t('user')), user),
  el('div', {class: 'field'}, el('label', {for: 'login-pass'}, t('password')), pass),
  el('button', {class: 'btn', id: 'login-go', type: 'submit'}, t('login')));
  view(form);
  user.focus();
}

/* ---- search ---- */

function recordTable(type, recs, onPick) {
  const ty = typeOf(type);
  const cols = ty.fields.slice(0, 6).map((f) => f.name);
  return el('div', {class: 'scroll'}, el('table', {class: 'list', 'data-type': type},
    el('thead', {}, el('tr', {}, cols.map((c) => el('th', {}, nameOf(c, fieldOf(type, c)))))),
    el('tbody', {}, recs.map((r) => el('tr', {class: 'click', 'data-id': r.id, on: {click: () => onPick(r)}},
      cols.map((c) => el('td', {}, fieldOf(type, c).type === 'enum' ? nameOf(r[c]) : r[c])))))));
}

async function searchView(q, type) {
  S.view = 'search';
  type = type || 'person';
  const input = el('input', {id: 'q', type: 'search', value: q || '', placeholder: t('searchHint'), 'aria-label': t('search')});
  const sel = el('select', {id: 'search-type', 'aria-label': t('type')},
    S.types.map((ty) => el('option', {value: ty.name, selected: ty.name === type}, t(ty.name))));
  const out = el('div', {id: 'results'});
  const run = async () => {
    const r = await api('GET', '/api/records/' + encodeURIComponent(sel.value) + '?q=' + encodeURIComponent(input.value));
    if (r.status !== 200) return show(r.json.error, true);
    const recs = r.json.records;
    out.replaceChildren(...[
      recs.length ? recordTable(sel.value, recs, (rec) => go('rec/' + sel.value + '/' + encodeURIComponent(rec.id)))
                  : el('p', {class: 'muted-box'}, t('noResults')),
      r.json.truncated ? el('p', {class: 'muted-box'}, t('more', {n: recs.length})) : null].filter(Boolean));
  };
  view(el('form', {class: 'card', on: {submit: (ev) => { ev.preventDefault(); run(); }}},
    el('h2', {}, t('search')),
    el('div', {class: 'row'}, el('div', {class: 'field'}, input), sel,
      el('button', {class: 'btn', id: 'search-go', type: 'submit'}, t('find')))), out);
  input.focus();
  if (q) await run(); /* nobody's file is shown before the officer asks */
}

/* ---- one record ---- */

function recordList(type, rec) {
  return el('dl', {class: 'rec', id: 'record'}, typeOf(type).fields.map((f) => [
    el('dt', {}, nameOf(f.name, f)),
    el('dd', {'data-field': f.name}, rec[f.name] ? (f.type === 'enum' ? nameOf(rec[f.name]) : rec[f.name]) : '—')]));
}

async function recordView(type, id) {
  S.view = 'record';
  const r = await api('GET', '/api/records/' + encodeURIComponent(type) + '/' + encodeURIComponent(id));
  if (r.status !== 200) return show(r.json.error, true);
  const rec = r.json.record;
  const del = async () => {
    if (!confirm(t('confirmDel', {t: t(type), id}))) return;
    const d = await api('DELETE', '/api/records/' + encodeURIComponent(type) + '/' + encodeURIComponent(id));
    if (d.status !== 200) return show(problemText(d.json), true);
    show(t('deleted', {t: t(type), id}));
    go(typeOf(type).owner ? 'rec/' + typeOf(type).owner + '/' + encodeURIComponent(rec[ownerField(type)]) : 'search');
  };
  const parts = [el('section', {class: 'card'}, el('h2', {}, cap(t(type)) + ' ' + id), recordList(type, rec),
    el('div', {class: 'actions'},
      el('button', {class: 'btn', id: 'edit', type: 'button', on: {click: () => go('edit/' + type + '/' + encodeURIComponent(id))}}, t('edit')),
      el('button', {class: 'btn danger', id: 'delete', type: 'button', on: {click: del}}, t('del'))))];
  for (const ty of S.types.filter((x) => x.owner === type)) {
    const own = (r.json.owned || {})[ty.name] || [];
    parts.push(el('section', {class: 'card', id: 'owned-' + ty.name}, el('h2', {}, cap(t(ty.name))),
      own.length ? recordTable(ty.name, own, (o) => go('edit/' + ty.name + '/' + encodeURIComponent(o.id)))
                 : el('p', {class: 'muted-box'}, t('none')),
      el('div', {class: 'actions'}, el('button', {class: 'btn plain', type: 'button', id: 'add-' + ty.name,
        on: {click: () => go('new/' + ty.name + '/' + encodeURIComponent(id))}}, t('add', {t: t(ty.name)})))));
  }
  view(...parts);
}

function ownerField(type) {
  const ty = typeOf(type);
  const f = ty.fields.find((x) => x.type === 'ref' && x.ref === ty.owner);
  return f && f.name;
}

/* ---- forms ---- */

function input(f, value, fixed) {
  const common = {name: f.name, id: 'f-' + f.name, required: f.required, readonly: fixed};
  if (f.type === 'enum')
    return el('select', Object.assign(common, {disabled: fixed}), el('option', {value: ''}, '—'),
      f.values.map((v) => el('option', {value: v, selected: v === value}, nameOf(v))));
  return el('input', Object.assign(common, {type: f.type === 'date' ? 'date' : 'text', value: value || '',
    autocomplete: 'off', spellcheck: f.type === 'string' && f.pii ? 'false' : null}));
}

function problemText(j) {
  return (j.problems || []).map((p) => (p.field ? nameOf(p.field) + ': ' : '') + reason(p.reason)).join(' · ') || j.error;
}

async function formView(type, id, ownerId) {
  S.view = id ? 'edit' : 'new';
  const ty = typeOf(type);
  if (!ty) return show(type, true);
  let rec = {};
  if (id) {
    const r = await api('GET', '/api/records/' + encodeURIComponent(type) + '/' + encodeURIComponent(id));
    if (r.status !== 200) return show(r.json.error, true);
    rec = r.json.record;
  }
  const of = ownerField(type);
  if (ownerId && of) rec[of] = ownerId;
  const general = el('div', {class: 'err', 'data-field': ''});
  const boxes = ty.fields.map((f) => el('div', {class: 'field', 'data-field': f.name},
    el('label', {for: 'f-' + f.name}, nameOf(f.name, f), f.required ? el('span', {class: 'req'}, '*') : null),
    input(f, rec[f.name], (id && f.name === 'id') || (ownerId && f.name === of)),
    el('div', {class: 'err', 'data-field': f.name})));
  const form = el('form', {class: 'card', id: 'form', 'data-type': type, on: {submit: async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const f of ty.fields) body[f.name] = form.elements[f.name].value.trim();
    const path = '/api/records/' + encodeURIComponent(type) + (id ? '/' + encodeURIComponent(id) : '');
    const r = await api(id ? 'PATCH' : 'POST', path, body);
    for (const b of form.querySelectorAll('.field')) b.classList.remove('bad');
    for (const e of form.querySelectorAll('.err')) e.textContent = '';
    if (r.status === 200 || r.status === 201) {
      show(r.json.unchanged ? t('unchanged') : t('saved', {t: t(type), id: r.json.id}));
      const root = ty.owner ? 'rec/' + ty.owner + '/' + encodeURIComponent(body[of]) : 'rec/' + type + '/' + encodeURIComponent(r.json.id);
      return go(root);
    }
    show(r.status === 400 ? t('refused') : r.json.error, true);
    for (const p of r.json.problems || []) {
      const box = form.querySelector('.err[data-field="' + CSS.escape(p.field) + '"]') || general;
      box.textContent = (box.textContent ? box.textContent + ' ' : '') + reason(p.reason);
      const fb = form.querySelector('.field[data-field="' + CSS.escape(p.field) + '"]');
      if (fb) fb.classList.add('bad');
    }
  }}},
  el('h2', {}, id ? t('edit') + ' ' + t(type) + ' ' + id : cap(t('add', {t: t(type)}))), general,
  el('div', {class: 'fields'}, boxes),
  el('div', {class: 'actions'}, el('button', {class: 'btn', id: 'form-save', type: 'submit'}, t('save')),
    el('button', {class: 'btn plain', type: 'button', on: {click: () => history.back()}}, t('cancel'))));
  view(form);
}

/* ---- CSV import ---- */

function importView() {
  S.view = 'import';
  const sel = el('select', {id: 'csv-type', 'aria-label': t('type')}, S.types.map((ty) => el('option', {value: ty.name}, t(ty.name))));
  const file = el('input', {id: 'csv-file', type: 'file', accept: '.csv,text/csv'});
  const out = el('div', {id: 'csv-result'});
  const form = el('form', {class: 'card', on: {submit: async (ev) => {
    ev.preventDefault();
    if (!file.files.length) return;
    const text = await file.files[0].text();
    const r = await api('POST', '/api/records/' + encodeURIComponent(sel.value) + '/import', text, 'text/csv; charset=utf-8');
    file.value = '';
    if (r.status === 200) {
      show(t('importDone', {type: t(sel.value), ins: r.json.inserted, upd: r.json.updated, same: r.json.unchanged}));
      return out.replaceChildren();
    }
    show(r.status === 400 ? t('importRefused') : r.json.error, true);
    out.replaceChildren(el('div', {class: 'card'}, el('table', {class: 'list', id: 'csv-problems'},
      el('thead', {}, el('tr', {}, el('th', {}, t('line')), el('th', {}, t('field')), el('th', {}, t('reason')))),
      el('tbody', {}, (r.json.problems || []).map((p) => el('tr', {'data-line': p.line || ''},
        el('td', {}, p.line || ''), el('td', {}, p.field ? nameOf(p.field, fieldOf(sel.value, p.field)) : t('general')), el('td', {}, reason(p.reason))))))));
  }}},
  el('h2', {}, t('importTitle')),
  el('div', {class: 'row'}, el('div', {class: 'field'}, el('label', {for: 'csv-type'}, t('type')), sel),
    el('div', {class: 'field'}, el('label', {for: 'csv-file'}, t('file')), file)),
  el('button', {class: 'btn', id: 'csv-go', type: 'submit'}, t('upload')));
  view(form, out);
}

/* ---- admin ---- */

async function adminView(filterUser, filterRecord) {
  S.view = 'admin';
  const [u, l] = await Promise.all([api('GET', '/api/users'),
    api('GET', '/api/access-log?' + new URLSearchParams({user: filterUser || '', record: filterRecord || ''}))]);
  if (u.status !== 200) return show(u.json.error, true);
  if (l.status !== 200) return show(l.json.error, true);
  const act = async (method, path, body) => {
    const r = await api(method, path, body);
    if (r.status !== 200) return show(r.json.error, true);
    show(t('saved', {t: t('user'), id: r.json.name}));
    adminView(filterUser, filterRecord);
  };
  const nu = el('input', {id: 'u-name', name: 'name', autocomplete: 'off'});
  const np = el('input', {id: 'u-pass', name: 'password', type: 'password', autocomplete: 'new-password'});
  const nr = el('select', {id: 'u-role', name: 'role'}, ['officer', 'viewer', 'admin'].map((r) => el('option', {value: r}, t('role_' + r))));
  const fu = el('input', {id: 'log-user', value: filterUser || '', placeholder: t('user')});
  const fr = el('input', {id: 'log-record', value: filterRecord || '', placeholder: t('record')});
  view(
    el('section', {class: 'card', id: 'users'}, el('h2', {}, t('users')),
      el('div', {class: 'scroll'}, el('table', {class: 'list'},
        el('thead', {}, el('tr', {}, el('th', {}, t('user')), el('th', {}, t('role')), el('th', {}, t('created')), el('th', {}, ''))),
        el('tbody', {}, u.json.users.map((x) => el('tr', {'data-user': x.name}, el('td', {}, x.name), el('td', {}, t('role_' + x.role)),
          el('td', {}, x.created), el('td', {}, el('div', {class: 'actions'},
            el('button', {class: 'btn plain', type: 'button', on: {click: () => {
              const p = prompt(t('newPassword') + ': ' + x.name);
              if (p) act('POST', '/api/users/' + encodeURIComponent(x.name) + '/password', {password: p});
            }}}, t('setPassword')),
            el('button', {class: 'btn danger', type: 'button', on: {click: () => {
              if (confirm(t('del') + ' ' + x.name + '?')) act('DELETE', '/api/users/' + encodeURIComponent(x.name));
            }}}, t('del'))))))))),
      el('form', {class: 'row', on: {submit: (ev) => { ev.preventDefault(); act('POST', '/api/users', {name: nu.value, role: nr.value, password: np.value}); }}},
        el('div', {class: 'field'}, el('label', {for: 'u-name'}, t('user')), nu),
        el('div', {class: 'field'}, el('label', {for: 'u-pass'}, t('password')), np),
        el('div', {class: 'field'}, el('label', {for: 'u-role'}, t('role')), nr),
        el('button', {class: 'btn', type: 'submit', id: 'u-add'}, t('addUser')))),
    el('section', {class: 'card'}, el('h2', {}, t('log')),
      el('form', {class: 'row', on: {submit: (ev) => { ev.preventDefault(); adminView(fu.value, fr.value); }}},
        el('div', {class: 'field'}, fu), el('div', {class: 'field'}, fr), el('button', {class: 'btn', type: 'submit'}, t('filter'))),
      el('div', {class: 'scroll'}, el('table', {class: 'list', id: 'log'},
        el('thead', {}, el('tr', {}, [t('time'), t('user'), t('address'), t('action'), t('record')].map((h) => el('th', {}, h)))),
        el('tbody', {}, l.json.entries.map((a) => el('tr', {'data-action': a.action, 'data-id': a.id},
          el('td', {}, a.time), el('td', {}, a.user), el('td', {}, a.address), el('td', {}, nameOf(a.action)),
          el('td', {}, [a.type ? t(a.type) : '', a.id, a.count ? '(' + t('listed', {n: a.count}) + ')' : ''].filter(Boolean).join(' ')))))))));
}

/* ---- routing ---- */

function go(hash) {
  if (location.hash === '#' + hash) render();
  else location.hash = hash;
}

async function render() {
  frame();
  if (!S.session) return loginView();
  if (S.session.role === 'viewer') {
    S.view = 'viewer';
    return view(el('div', {class: 'card', id: 'viewer'}, el('p', {}, t('viewer')), el('a', {href: '/'}, t('dashboard'))));
  }
  const [v, a, b] = location.hash.slice(1).split('/').map(decodeURIComponent);
  if (v === 'rec') return recordView(a, b);
  if (v === 'new') return formView(a, null, b);
  if (v === 'edit') return formView(a, b);
  if (v === 'import') return importView();
  if (v === 'admin' && S.session.role === 'admin') return adminView();
  return searchView();
}

async function start() {
  if (S.session && S.session.role !== 'viewer' && !S.types) {
    const r = await api('GET', '/api/records');
    if (r.status === 200) S.types = r.json.types;
  }
  render();
}

window.addEventListener('hashchange', () => { show(''); render(); });
document.addEventListener('DOMContentLoaded', async () => {
  S.lang = new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'vi';
  for (const b of document.querySelectorAll('[data-lang]'))
    b.addEventListener('click', () => { S.lang = b.dataset.lang; render(); });
  $('logout').addEventListener('click', async () => {
    await api('DELETE', '/api/session');
    S.session = null;
    S.types = null;
    show('');
    location.hash = '';
    render();
  });
  const r = await api('GET', '/api/session');
  S.session = r.status === 200 ? r.json : null;
  start();
});
