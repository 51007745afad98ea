// register_browser.js: drives a commune's case register in Debian's
// Chromium (puppeteer-core, no browser downloaded) for register_browser.sh.
// usage: node register_browser.js BASE ARTIFACTS_DIR STATE_FILE
// Users (officer binh, viewer chi, admin an) and their passwords come from
// the environment (REG_PW_*). Writes what the shell checks next (the
// officer's old cookie) to STATE_FILE; exits non-zero naming the failed step.
'use strict';
const puppeteer = require('puppeteer-core');
const fs = require('fs');

const [BASE, ART, STATE] = process.argv.slice(2);
const PW = {binh: process.env.REG_PW_OFFICER, chi: process.env.REG_PW_VIEWER, an: process.env.REG_PW_ADMIN};

function check(ok, what) {
  if (!ok) throw new Error(what);
  console.log('ok: ' + what);
}

async function ready(page) {
  await page.waitForFunction(() => document.body.dataset.ready === '1');
}

async function shot(page, name) {
  await page.screenshot({path: `${ART}/${name}.png`, fullPage: true});
}

async function gotoView(page, hash, view) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((v) => document.body.dataset.view === v && document.body.dataset.ready === '1', {}, view);
}

async function login(page, user) {
  await page.goto(BASE + '/register', {waitUntil: 'networkidle0'});
  await page.waitForSelector('#login-user');
  await page.type('#login-user', user);
  await page.type('#login-pass', PW[user]);
  await Promise.all([
    page.waitForFunction(() => document.body.dataset.view !== 'login'),
    page.click('#login-go'),
  ]);
}

async function logout(page) {
  await page.click('#logout');
  await page.waitForSelector('#login-user');
}

async function fill(page, values) {
  for (const [name, v] of Object.entries(values)) {
    const sel = `#form [name="${name}"]`;
    const kind = await page.$eval(sel, (e) => e.tagName === 'SELECT' ? 'select' : e.type);
    if (kind === 'select') await page.select(sel, v);
    else if (kind === 'date') { // a date picker takes keys in the browser's locale order: set it
      await page.$eval(sel, (e, x) => { e.value = x; e.dispatchEvent(new Event('input', {bubbles: true})); }, v);
    } else {
      await page.$eval(sel, (e) => { e.value = ''; });
      await page.type(sel, v);
    }
  }
}

async function save(page) {
  await page.$eval('#error', (e) => { e.hidden = true; });
  await page.click('#form-save');
  await page.waitForFunction(() => !document.getElementById('error').hidden || document.body.dataset.view !== 'new' &&
    document.body.dataset.view !== 'edit');
  await ready(page);
}

async function api(page, method, path, body, csrf) {
  return page.evaluate(async (m, p, b, c) => {
    const h = {'Content-Type': 'application/json'};
    if (c) h['X-CSRF-Token'] = c;
    const r = await fetch(p, {method: m, headers: h, body: b ? JSON.stringify(b) : undefined});
    return {status: r.status, json: await r.json()};
  }, method, path, body, csrf);
}

let page; // for a screenshot of the page when a step fails
(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--lang=vi'],
    headless: true,
  });
  try {
    page = await browser.newPage();
    await page.setViewport({width: 1366, height: 768});
    page.on('dialog', (d) => d.accept());
    page.on('pageerror', (e) => { console.log('page error: ' + e.message); process.exitCode = 1; });

    // the login page, in Vietnamese
    await page.goto(BASE + '/register', {waitUntil: 'networkidle0'});
    await page.waitForSelector('#login-user');
    check(await page.$eval('html', (e) => e.lang) === 'vi', 'the register opens in Vietnamese');
    await shot(page, 'register-login');

    // a wrong password is refused
    await page.type('#login-user', 'binh');
    await page.type('#login-pass', 'not-the-password');
    await page.click('#login-go');
    await page.waitForFunction(() => !document.getElementById('error').hidden);
    check(await page.$eval('#error', (e) => e.textContent.includes('Sai tên đăng nhập')), 'a wrong password is refused (in Vietnamese)');

    // the officer logs in and searches without diacritics
    await login(page, 'binh');
    await page.waitForSelector('#results');
    check(await page.$eval('#who', (e) => e.textContent.startsWith('binh')), 'the officer is logged in');
    const session = await api(page, 'GET', '/api/session');
    const csrf = session.json.csrf;
    check(session.status === 200 && /^[0-9a-f]{64}$/.test(csrf), 'GET /api/session gives the CSRF token');
    const storage = await page.evaluate(async () =>
      localStorage.length + sessionStorage.length + (await indexedDB.databases()).length);
    check(storage === 0, 'nothing is kept in localStorage, sessionStorage or IndexedDB');

    // add a person through the form
    await gotoView(page, 'new/person', 'new');
    await fill(page, {id: 'P900', full_name: 'Đặng Thị Hường', national_id: '035190000900', birth_date: '1990-05-01',
                      sex: 'F', address: 'Thôn Đông, Xã Tân Sơn', registered_on: '2026-03-02'});
    await shot(page, 'register-form');
    await save(page);
    check(await page.evaluate(() => document.body.dataset.view) === 'record', 'the new person is saved and shown');
    check(await page.$eval('#record dd[data-field="full_name"]', (e) => e.textContent) === 'Đặng Thị Hường', 'the person page shows the name');

    // add an episode from the person's page
    await page.click('#add-episode');
    await page.waitForFunction(() => document.body.dataset.view === 'new' && document.querySelector('#form'));
    check(await page.$eval('#form [name="person_id"]', (e) => e.value === 'P900' && e.readOnly), 'the episode form is tied to the person');
    await fill(page, {id: 'E900', modality: 'methadone', start_on: '2026-03-03'});
    await save(page);
    check(await page.$$eval('#owned-episode tr[data-id="E900"]', (r) => r.length) === 1, 'the episode is listed on the person page');
    await shot(page, 'register-person');

    // a wrong value is shown beside its field, in Vietnamese, and changes nothing
    await gotoView(page, 'edit/person/P900', 'edit');
    await fill(page, {registered_on: '2027-01-01'});
    await page.click('#form-save');
    await page.waitForFunction(() => document.querySelector('.err[data-field="registered_on"]').textContent !== '');
    const why = await page.$eval('.err[data-field="registered_on"]', (e) => e.textContent);
    check(why.includes('Sau ngày hôm nay'), 'a date after today is refused beside its field: ' + why);
    await shot(page, 'register-error');
    const still = await api(page, 'GET', '/api/records/person/P900');
    check(still.json.record.registered_on === '2026-03-02', 'the refused change changed nothing');

    // correct a field: the sex was entered wrong
    await fill(page, {registered_on: '2026-03-02', sex: 'M'});
    await save(page);
    check(await page.$eval('#record dd[data-field="sex"]', (e) => e.textContent) === 'Nam', 'the corrected field is saved');

    // search without diacritics finds the person
    await gotoView(page, 'search', 'search');
    await page.$eval('#q', (e) => { e.value = ''; });
    await page.type('#q', 'dang thi huong');
    await page.click('#search-go');
    const found = await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#results tbody tr')];
      return rows.length === 1 && rows[0].dataset.id === 'P900';
    }, {timeout: 10000}).then(() => true, () => false);
    check(found, '"dang thi huong" finds exactly Đặng Thị Hường');
    await shot(page, 'register-search');

    // a CSV with one bad line is refused whole
    await gotoView(page, 'import', 'import');
    const csv = `${ART}/episodes.csv`;
    fs.writeFileSync(csv, 'id,person_id,modality,start_on\nE901,P900,compulsory,2026-03-04\nE902,P99999,methadone,2026-03-05\n');
    await page.select('#csv-type', 'episode');
    const up = await page.$('#csv-file');
    await up.uploadFile(csv);
    await page.click('#csv-go');
    await page.waitForSelector('#csv-problems');
    const refused = await page.$$eval('#csv-problems tbody tr', (r) => r.map((x) => x.dataset.line));
    check(refused.length === 1 && refused[0] === '3', 'the CSV is refused with line 3 listed: ' + refused);
    await shot(page, 'register-import');
    const e901 = await api(page, 'GET', '/api/records/episode/E901');
    check(e901.status === 404, 'the good line of the refused CSV was not written either');

    // a write without the CSRF token is refused
    const noCsrf = await api(page, 'POST', '/api/records/person', {id: 'P901', full_name: 'X', sex: 'M', registered_on: '2026-03-01'});
    check(noCsrf.status === 403, 'a write without X-CSRF-Token is refused (403)');
    const noP901 = await api(page, 'GET', '/api/records/person/P901');
    check(noP901.status === 404, 'and changed nothing');

    const after = await page.evaluate(async () =>
      localStorage.length + sessionStorage.length + (await indexedDB.databases()).length);
    check(after === 0, 'after a morning\'s work the browser\'s storage is still empty');

    // the officer's cookie, then log out
    const cookies = await page.cookies();
    const c = cookies.find((x) => x.name === 'ts_session');
    check(c && c.httpOnly && c.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
    await logout(page);
    fs.writeFileSync(STATE, JSON.stringify({cookie: c.value, csrf}));

    // a viewer sees no record
    await login(page, 'chi');
    await page.waitForSelector('#viewer');
    const v = await api(page, 'GET', '/api/records/person?q=');
    check(v.status === 403, 'a viewer cannot open records (403)');
    await logout(page);

    // the admin reads the access log in the browser
    await login(page, 'an');
    await gotoView(page, 'admin', 'admin');
    const rows = await page.$$eval('#log tbody tr', (r) => r.map((x) => x.dataset.action + ' ' + x.dataset.id));
    for (const want of ['login ', 'login-failed ', 'add P900', 'add E900', 'read P900', 'update P900', 'search ', 'logout '])
      check(rows.includes(want), 'the access log in the browser lists "' + want.trim() + '"');
    await shot(page, 'register-admin');

    // a phone
    await page.setViewport({width: 390, height: 844, isMobile: true});
    await gotoView(page, 'rec/person/P900', 'record');
    await shot(page, 'register-phone');
    await logout(page);
  } catch (e) {
    if (page) {
      await shot(page, 'register-failure').catch(() => {});
      console.error('page text at the failure: ' + (await page.evaluate(() => document.body.innerText).catch(() => '?')));
    }
    throw e;
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error('FAIL: ' + e.message); process.exit(1); });
