#!/usr/bin/env node
// Starts a parleyd, drives real requests at both listeners and checks every answer
// against docs/openapi.yaml: the status must be documented for the operation (or be one
// of the answers any path can give, `x-parley-any-path-responses`), the body must
// validate against the response schema (NDJSON: every line), the headers the response
// object marks `required` (X-Request-Id everywhere, Retry-After on 503, Allow on 405)
// must be present, and the Content-Type must be one the response documents.
//
//   node validate_live.mjs --parleyd build/engine/parleyd [--spec docs/openapi.yaml] [--verbose]
//
// Routes that this parleyd does not have yet (the path answers 404 for every method,
// where an existing route answers 405 to a method it lacks) are listed as "not
// implemented yet" and do not fail the run. Everything stays on 127.0.0.1.
// Exit 0 when every check passed, 1 otherwise, 2 on bad arguments or a parleyd that
// does not start.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 40_000;
const STOP_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------- args

function parseArgs(argv) {
  const out = { spec: path.resolve(here, '../../docs/openapi.yaml'), verbose: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--parleyd') out.parleyd = path.resolve(value());
    else if (a === '--spec') out.spec = path.resolve(value());
    else if (a === '--verbose' || a === '-v') out.verbose = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!out.parleyd) usage('--parleyd is required');
  return out;
}

function usage(problem) {
  if (problem) console.error(`validate_live: ${problem}`);
  console.error('usage: node validate_live.mjs --parleyd PATH [--spec openapi.yaml] [--verbose]');
  process.exit(problem ? 2 : 0);
}

const args = parseArgs(process.argv.slice(2));
for (const f of [args.parleyd, args.spec]) {
  if (!fs.existsSync(f)) {
    console.error(`validate_live: ${f} does not exist`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------- spec

const spec = YAML.parse(fs.readFileSync(args.spec, 'utf8'));
const SPEC_ID = 'parley-openapi';

// Schema $refs point into the ajv schema that holds components.schemas as definitions.
function rewriteSchemaRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteSchemaRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      out[k] = `${SPEC_ID}#/definitions/${v.slice('#/components/schemas/'.length)}`;
    } else {
      out[k] = rewriteSchemaRefs(v);
    }
  }
  return out;
}

// Follows a non-schema $ref (responses, headers, parameters) inside the document.
function deref(node) {
  let seen = 0;
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    if (!node.$ref.startsWith('#/') || ++seen > 16) throw new Error(`unsupported $ref ${node.$ref}`);
    node = node.$ref
      .slice(2)
      .split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((o, key) => (o == null ? undefined : o[key]), spec);
    if (node === undefined) throw new Error('dangling $ref');
  }
  return node;
}

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
addFormats(ajv, ['date-time', 'date', 'uri']);
ajv.addKeyword({ keyword: 'example', schemaType: ['string', 'number', 'boolean', 'object', 'array', 'null'] });
ajv.addSchema({ $id: SPEC_ID, definitions: rewriteSchemaRefs(spec.components?.schemas ?? {}) });

const compiled = new WeakMap();
function validatorFor(schema) {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(rewriteSchemaRefs(schema));
    compiled.set(schema, v);
  }
  return v;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const routes = Object.entries(spec.paths).map(([template, item]) => {
  const segments = template.split('/');
  const names = [];
  const re = segments
    .map((s) => {
      const m = /^\{([^}]+)\}$/.exec(s);
      if (!m) return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]);
      return '([^/]+)';
    })
    .join('/');
  return { template, item, re: new RegExp(`^${re}$`), literals: segments.filter((s) => !s.startsWith('{')).length, names };
});

function findRoute(pathname) {
  let best = null;
  for (const r of routes) {
    if (r.re.test(pathname) && (!best || r.literals > best.literals)) best = r;
  }
  return best;
}

function operationOf(route, method) {
  const m = method.toLowerCase();
  return route.item[m] ?? (m === 'head' ? route.item.get : undefined);
}

// ---------------------------------------------------------------------------------- results

const results = { passed: 0, failed: 0, failures: [], notImplemented: [], notes: [], exercised: new Map() };

function record(ok, label, problems) {
  if (ok) {
    results.passed++;
    if (args.verbose) console.log(`ok    ${label}`);
  } else {
    results.failed++;
    results.failures.push(`${label}: ${problems.join('; ')}`);
    console.log(`FAIL  ${label}\n      ${problems.join('\n      ')}`);
  }
}

function mediaBase(contentType) {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function ajvErrors(validate) {
  return (validate.errors ?? []).slice(0, 6).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`);
}

// Checks one answer against the spec; returns the parsed JSON body (or null).
function check(res, label, requestBody, { unrouted = false } = {}) {
  const problems = [];
  const pathname = res.path.split('?')[0];
  const route = unrouted ? null : findRoute(pathname);
  let response;
  let where;
  const anyPath = spec['x-parley-any-path-responses'] ?? {};
  if (!route) {
    if (anyPath[String(res.status)] && res.status === 404) {
      response = deref(anyPath['404']);
      where = unrouted ? 'not routed by this parleyd: any path 404' : 'any path 404';
    } else {
      problems.push(`no path in the spec matches ${pathname} (answered ${res.status})`);
    }
  } else {
    const op = operationOf(route, res.method);
    if (!op) {
      if (anyPath[String(res.status)]) {
        response = deref(anyPath[String(res.status)]);
        where = `${route.template} (no ${res.method} operation) any path ${res.status}`;
      } else {
        problems.push(`${res.method} ${route.template} is not in the spec and answered ${res.status}`);
      }
    } else {
      where = `${op.operationId} ${res.status}`;
      const exercised = `${res.method} ${route.template}`;
      results.exercised.set(exercised, (results.exercised.get(exercised) ?? new Set()).add(res.status));
      const key = [String(res.status), `${String(res.status)[0]}XX`, 'default'].find((k) => op.responses?.[k]);
      if (!key) problems.push(`status ${res.status} is not documented for ${op.operationId} (documented: ${Object.keys(op.responses).join(', ')})`);
      else response = deref(op.responses[key]);
      // A request the server accepted must be one the spec describes.
      if (requestBody !== undefined && res.status < 300 && op.requestBody) {
        const rb = deref(op.requestBody);
        const schema = rb.content?.['application/json']?.schema;
        if (schema) {
          const v = validatorFor(schema);
          if (!v(requestBody)) problems.push(`the accepted request body does not match the spec's requestBody: ${ajvErrors(v).join(', ')}`);
        }
      }
    }
  }

  if (!res.headers['x-request-id']) problems.push('no X-Request-Id header');
  let json = null;
  if (response) {
    for (const [name, h] of Object.entries(response.headers ?? {})) {
      const header = deref(h);
      if (header.required && !res.headers[name.toLowerCase()]) problems.push(`required header ${name} missing`);
    }
    const content = response.content;
    if (!content || Object.keys(content).length === 0) {
      if (res.body.length > 0) problems.push(`no body documented but got ${res.body.length} bytes`);
    } else {
      const type = mediaBase(res.headers['content-type']);
      const media = content[type];
      if (!media) {
        problems.push(`Content-Type ${res.headers['content-type'] ?? '(none)'} is not documented (${Object.keys(content).join(', ')})`);
      } else if (type === 'application/json') {
        try {
          json = JSON.parse(res.body);
        } catch {
          problems.push(`body is not JSON: ${res.body.slice(0, 120)}`);
        }
        if (json !== null && media.schema) {
          const v = validatorFor(media.schema);
          if (!v(json)) problems.push(`body does not match the schema: ${ajvErrors(v).join(', ')}  body: ${res.body.slice(0, 300)}`);
        }
      } else if (type === 'application/x-ndjson') {
        const v = media.schema ? validatorFor(media.schema) : null;
        const lines = res.body.split('\n').filter((l) => l.trim() !== '');
        json = [];
        lines.forEach((line, i) => {
          let value;
          try {
            value = JSON.parse(line);
          } catch {
            problems.push(`line ${i + 1} is not JSON`);
            return;
          }
          json.push(value);
          if (v && !v(value)) problems.push(`line ${i + 1} does not match the schema: ${ajvErrors(v).join(', ')}`);
        });
      }
    }
  }
  record(problems.length === 0, `${label} → ${res.status}${where ? ` [${where}]` : ''}`, problems);
  return json;
}

// ---------------------------------------------------------------------------------- HTTP

function request(base, method, target, { body, headers = {}, raw } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(target, base);
    if (url.hostname !== '127.0.0.1') return reject(new Error(`refusing to reach ${url.hostname}`));
    let payload = raw !== undefined ? raw : body !== undefined ? JSON.stringify(body) : undefined;
    if (typeof payload === 'string') payload = Buffer.from(payload);
    const h = { ...headers };
    if (payload !== undefined) {
      h['content-type'] ??= 'application/json';
      h['content-length'] = payload.length;
    }
    let settled = false;
    const req = http.request(
      { host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers: h, agent: false, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          settled = true;
          resolve({ method, path: url.pathname + url.search, status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => !settled && reject(e));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    // A server may answer (413) and close before it has read the whole body: the
    // answer counts, the write error after it does not.
    req.on('error', (e) => {
      if (!settled) setTimeout(() => !settled && reject(e), 200);
    });
    if (payload !== undefined) req.end(payload);
    else req.end();
  });
}

// ---------------------------------------------------------------------------------- parleyd

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-openapi-'));
const adminToken = crypto.randomBytes(24).toString('hex');
let child = null;
let childExit = null;
let stderrTail = '';
let sink = null;

async function startParleyd() {
  const config = path.join(tmp, 'parley.toml');
  // Every provider call goes to a closed loopback port: nothing leaves the host.
  fs.writeFileSync(
    config,
    ['[providers]', 'whatsapp_api_base = "http://127.0.0.1:9"', 'telegram_api_base = "http://127.0.0.1:9"', 'postmark_api_base = "http://127.0.0.1:9"', ''].join('\n'),
  );
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLEY_')));
  env.PARLEY_ADMIN_TOKEN = adminToken;
  env.PARLEY_LOG_LEVEL = 'warn';
  child = spawn(
    args.parleyd,
    ['--config', config, '--data-dir', path.join(tmp, 'data'), '--public-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  childExit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stderr.on('data', (d) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
    if (args.verbose) process.stderr.write(d);
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`no ready line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    childExit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`parleyd exited before it was ready (code ${code}, signal ${signal})`));
    });
    child.stdout.on('data', (d) => {
      buffered += d.toString();
      const m = /^parleyd ready public=(\S+):(\d+) admin=(\S+):(\d+) data=(.+)$/m.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve({ pub: `http://127.0.0.1:${m[2]}`, admin: `http://127.0.0.1:${m[4]}`, publicHost: m[1], adminHost: m[3] });
      }
    });
  });
}

async function stopParleyd() {
  if (!child || child.exitCode !== null || child.signalCode !== null) return childExit ? await childExit : null;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const r = await childExit;
  clearTimeout(timer);
  return r;
}

// A loopback receiver for the tenant's events webhook: answers 200 and keeps the bodies.
function startSink() {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, received, url: `http://127.0.0.1:${server.address().port}/parley-events` })));
}

// ---------------------------------------------------------------------------------- the run

const hmacHex = (key, data) => crypto.createHmac('sha256', key).update(data).digest('hex');

async function main() {
  const { pub, admin } = await startParleyd();
  sink = await startSink();
  console.log(`parleyd up: public ${pub}, admin ${admin}; spec ${path.relative(process.cwd(), args.spec)}`);

  const adminAuth = { authorization: `Bearer ${adminToken}` };
  let keyAuth = {};

  // One request, checked. `expect` is what the scenario wants (a note when it differs;
  // only the spec decides pass or fail). `sentBody` is the JSON sent when the request is
  // meant to be valid (it is then checked against the requestBody schema too).
  async function call(base, method, target, opts = {}) {
    const { body, headers = {}, raw, expect, label, valid = true } = opts;
    const res = await request(base, method, target, { body, headers, raw });
    const name = label ?? `${method} ${target.split('?')[0]}`;
    const json = check(res, name, valid && body !== undefined ? body : undefined);
    const wanted = expect === undefined ? null : [].concat(expect);
    if (wanted && !wanted.includes(res.status)) {
      results.notes.push(`${name}: expected ${wanted.join('/')} got ${res.status} ${res.body.slice(0, 160)}`);
    }
    return { status: res.status, json, res };
  }
  const A = (method, target, opts = {}) => call(admin, method, target, { ...opts, headers: { ...adminAuth, ...(opts.headers ?? {}) } });
  const T = (method, target, opts = {}) => call(pub, method, target, { ...opts, headers: { ...keyAuth, ...(opts.headers ?? {}) } });

  // A route answering 404 is checked for being routed at all: a path that also answers
  // 404 to a method it does not have is missing from parleyd.
  async function maybeMissing(base, headers, method, target, opts = {}) {
    const { expect, label } = opts;
    const name2 = label ?? `${method} ${target.split('?')[0]}`;
    const res = await request(base, method, target, { headers });
    let body = null;
    try {
      body = JSON.parse(res.body);
    } catch {}
    if (res.status === 404 && body?.error?.code === 'not_found') {
      const route = findRoute(target.split('?')[0]);
      const probeMethod = ['PATCH', 'PUT', 'POST', 'DELETE', 'GET'].find((m) => !route.item[m.toLowerCase()]);
      const probe = await call(base, probeMethod, target.split('?')[0], { headers, label: `${probeMethod} ${target.split('?')[0]} (probe)` });
      if (probe.status === 404) {
        // Every route of the spec exists in parleyd: one that is not routed is a failure.
        results.notImplemented.push(`${method} ${route.template}`);
        results.failed++;
        results.failures.push(`${name2}: not routed by this parleyd (404 for every method)`);
        return { status: res.status, json: body, res, missing: true };
      }
    }
    const json = check(res, name2);
    if (expect !== undefined && ![].concat(expect).includes(res.status)) {
      results.notes.push(`${name2}: expected ${[].concat(expect).join('/')} got ${res.status} ${res.body.slice(0, 160)}`);
    }
    return { status: res.status, json, res };
  }

  // ---- health (admin listener, no token)
  await call(admin, 'GET', '/healthz', { expect: 200 });
  await call(admin, 'GET', '/readyz', { expect: 200 });
  await call(admin, 'GET', '/metrics', { expect: 200 });
  await maybeMissing(admin, {}, 'GET', '/openapi.yaml', { expect: 200 });

  // ---- generic answers
  await call(admin, 'GET', '/v1/admin/tenants', { expect: 401, label: 'GET /v1/admin/tenants without token' });
  await call(admin, 'GET', '/no-such-route', { headers: adminAuth, expect: 404 });
  await call(pub, 'GET', '/v1/nope', { expect: 404 });
  await call(admin, 'PUT', '/v1/admin/tenants', { headers: adminAuth, body: {}, valid: false, expect: 405, label: 'PUT /v1/admin/tenants (405)' });
  await call(pub, 'DELETE', '/v1/messages', { expect: 405, label: 'DELETE /v1/messages (405)' });
  const echoed = await request(admin, 'GET', '/healthz', { headers: { 'x-request-id': 'openapi-check-1' } });
  check(echoed, 'GET /healthz with X-Request-Id');
  if (echoed.headers['x-request-id'] !== 'openapi-check-1') results.notes.push(`X-Request-Id not echoed: ${echoed.headers['x-request-id']}`);

  // ---- tenants
  const tenantBody = {
    id: 'acme',
    name: 'Acme Inc',
    limits: { send_requests_per_second: 0, monthly_outbound_quota: 0 },
    retention: { messages_days: 365, raw_webhooks_days: 90, events_days: 7 },
  };
  const created = await A('POST', '/v1/admin/tenants', { body: tenantBody, expect: 201 });
  keyAuth = { authorization: `Bearer ${created.json?.api_key}` };
  await A('POST', '/v1/admin/tenants', { body: tenantBody, expect: 409, label: 'POST /v1/admin/tenants again (409)' });
  await A('POST', '/v1/admin/tenants', { body: { id: 'Bad Id!' }, valid: false, expect: 400, label: 'POST /v1/admin/tenants bad id (400)' });
  await A('POST', '/v1/admin/tenants', { raw: '{"id":', valid: false, expect: 400, label: 'POST /v1/admin/tenants invalid JSON (400)' });
  await A('GET', '/v1/admin/tenants', { expect: 200 });
  await A('GET', '/v1/admin/tenants/acme', { expect: 200 });
  await A('GET', '/v1/admin/tenants/nobody', { expect: 404, label: 'GET /v1/admin/tenants/{tid} unknown (404)' });
  await A('PATCH', '/v1/admin/tenants/acme', { body: { name: 'Acme Corp', limits: { send_requests_per_second: 1000 } }, expect: 200 });

  const readKey = await A('POST', '/v1/admin/tenants/acme/api-keys', { body: { scopes: ['read'] }, expect: 201 });
  const sendKey = await A('POST', '/v1/admin/tenants/acme/api-keys', { body: { scopes: ['send', 'read'] }, expect: 201 });
  await A('POST', '/v1/admin/tenants/acme/api-keys', { body: { scopes: ['write'] }, valid: false, expect: 400, label: 'POST api-keys bad scope (400)' });

  // events webhook: none yet (404), then one pointing at the loopback sink
  await A('GET', '/v1/admin/tenants/acme/events-webhook', { expect: 404, label: 'GET events-webhook without one (404)' });

  // ---- channels (api_base: a closed loopback port)
  const nowhere = 'http://127.0.0.1:9';
  const appSecret = 'wa-app-secret';
  const chWa = await A('POST', '/v1/admin/tenants/acme/channels', {
    body: { type: 'whatsapp', name: 'support', phone_number_ids: ['106540352242922'], app_secret: appSecret, access_token: 'wa-token', verify_token: 'wa-verify', api_base: nowhere },
    expect: 201,
    label: 'POST channels whatsapp',
  });
  const chMs = await A('POST', '/v1/admin/tenants/acme/channels', {
    body: { type: 'messenger', page_ids: ['1000001'], app_secret: 'ms-secret', access_token: 'ms-token', verify_token: 'ms-verify', api_base: nowhere, outbound_per_second: 10 },
    expect: 201,
    label: 'POST channels messenger',
  });
  const chIg = await A('POST', '/v1/admin/tenants/acme/channels', {
    body: { type: 'instagram', page_ids: ['2000002'], app_secret: 'ig-secret', access_token: 'ig-token', verify_token: 'ig-verify', api_base: nowhere },
    expect: 201,
    label: 'POST channels instagram',
  });
  const chTg = await A('POST', '/v1/admin/tenants/acme/channels', {
    body: { type: 'telegram', bot_token: '123:ABC', secret_token: 'tg-secret_1', api_base: nowhere },
    expect: 201,
    label: 'POST channels telegram',
  });
  const chEm = await A('POST', '/v1/admin/tenants/acme/channels', {
    body: { type: 'email', from_address: 'help@acme.example', server_token: 'pm-token', inbound_username: 'pmuser', inbound_password: 'pmpass', api_base: nowhere },
    expect: 201,
    label: 'POST channels email',
  });
  await A('POST', '/v1/admin/tenants/acme/channels', { body: { type: 'fax' }, valid: false, expect: 400, label: 'POST channels bad type (400)' });
  await A('GET', '/v1/admin/tenants/acme/channels', { expect: 200 });
  const wa = chWa.json?.id;
  const ms = chMs.json?.id;
  const ig = chIg.json?.id;
  const tg = chTg.json?.id;
  const em = chEm.json?.id;
  await A('GET', `/v1/admin/tenants/acme/channels/${wa}`, { expect: 200 });
  await A('GET', '/v1/admin/tenants/acme/channels/ch_nope', { expect: 404, label: 'GET channel unknown (404)' });

  // ---- webhooks in (public listener)
  await call(pub, 'GET', `/webhooks/whatsapp/${wa}?hub.mode=subscribe&hub.verify_token=wa-verify&hub.challenge=4242`, { expect: 200, label: 'GET whatsapp verify' });
  await call(pub, 'GET', `/webhooks/whatsapp/${wa}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=4242`, { expect: 403, label: 'GET whatsapp verify wrong token (403)' });
  await call(pub, 'GET', `/webhooks/messenger/${ms}?hub.mode=subscribe&hub.verify_token=ms-verify&hub.challenge=7`, { expect: 200, label: 'GET messenger verify' });
  await call(pub, 'GET', `/webhooks/instagram/${ig}?hub.mode=subscribe&hub.verify_token=ig-verify&hub.challenge=8`, { expect: 200, label: 'GET instagram verify' });

  const nowS = Math.floor(Date.now() / 1000);
  const waBody = (id, from, text) =>
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001', phone_number_id: '106540352242922' }, contacts: [{ profile: { name: 'Jane' }, wa_id: from }], messages: [{ from, id, timestamp: String(nowS), type: 'text', text: { body: text } }] } }] }],
    });
  const postMeta = (kind, channel, raw, secret, label, expect = 200) =>
    call(pub, 'POST', `/webhooks/${kind}/${channel}`, { raw, headers: { 'x-hub-signature-256': `sha256=${hmacHex(secret, raw)}` }, expect, label });

  const wa1 = waBody('wamid.openapi1', '15551234567', 'hello');
  await postMeta('whatsapp', wa, wa1, appSecret, 'POST whatsapp webhook (signed)');
  await postMeta('whatsapp', wa, wa1, appSecret, 'POST whatsapp webhook duplicate');
  await postMeta('whatsapp', wa, waBody('wamid.openapi2', '15557654321', 'STOP'), appSecret, 'POST whatsapp webhook STOP');
  await call(pub, 'POST', `/webhooks/whatsapp/${wa}`, { raw: wa1, headers: { 'x-hub-signature-256': 'sha256=00' }, expect: 401, label: 'POST whatsapp webhook bad signature (401)' });
  await postMeta('whatsapp', wa, '[1,2,3]', appSecret, 'POST whatsapp webhook not its shape (400)', 400);
  await postMeta('whatsapp', 'ch_unknown', wa1, appSecret, 'POST whatsapp webhook unknown channel (404)', 404);
  const big = Buffer.alloc(1024 * 1024 + 512, 'a');
  await call(pub, 'POST', `/webhooks/whatsapp/${wa}`, { raw: big, headers: { 'x-hub-signature-256': 'sha256=00' }, expect: 413, label: 'POST whatsapp webhook over 1 MiB (413)' });

  const msBody = JSON.stringify({ object: 'page', entry: [{ id: '1000001', time: Date.now(), messaging: [{ sender: { id: 'psid-1' }, recipient: { id: '1000001' }, timestamp: Date.now(), message: { mid: 'm_openapi1', text: 'hi from messenger' } }] }] });
  await postMeta('messenger', ms, msBody, 'ms-secret', 'POST messenger webhook (signed)');
  const igBody = JSON.stringify({ object: 'instagram', entry: [{ id: '2000002', time: Date.now(), messaging: [{ sender: { id: 'igsid-1' }, recipient: { id: '2000002' }, timestamp: Date.now(), message: { mid: 'ig_openapi1', text: 'hi from instagram' } }] }] });
  await postMeta('instagram', ig, igBody, 'ig-secret', 'POST instagram webhook (signed)');

  const tgUpdate = JSON.stringify({ update_id: 900001, message: { message_id: 11, from: { id: 5550001, is_bot: false, first_name: 'Tom' }, chat: { id: 5550001, type: 'private' }, date: nowS, text: 'hello bot' } });
  await call(pub, 'POST', `/webhooks/telegram/${tg}`, { raw: tgUpdate, headers: { 'x-telegram-bot-api-secret-token': 'tg-secret_1' }, expect: 200, label: 'POST telegram webhook' });
  await call(pub, 'POST', `/webhooks/telegram/${tg}`, { raw: tgUpdate, headers: { 'x-telegram-bot-api-secret-token': 'nope' }, expect: 401, label: 'POST telegram webhook bad token (401)' });

  const basic = { authorization: `Basic ${Buffer.from('pmuser:pmpass').toString('base64')}` };
  const pmInbound = JSON.stringify({ From: 'Jane <jane@example.org>', FromFull: { Email: 'jane@example.org', Name: 'Jane' }, To: 'help@acme.example', OriginalRecipient: 'help@acme.example', Subject: 'Order', Date: new Date().toUTCString(), MessageID: 'pm-openapi-1', TextBody: 'Where is my order?', Headers: [{ Name: 'Message-ID', Value: '<a1@example.org>' }] });
  await call(pub, 'POST', `/webhooks/postmark/${em}`, { raw: pmInbound, headers: basic, expect: 200, label: 'POST postmark inbound' });
  await call(pub, 'POST', `/webhooks/postmark/${em}`, { raw: pmInbound, expect: 401, label: 'POST postmark inbound no auth (401)' });
  const pmEvent = JSON.stringify({ RecordType: 'Delivery', MessageID: 'pm-unknown-out', Recipient: 'jane@example.org', DeliveredAt: new Date().toISOString() });
  await call(pub, 'POST', `/webhooks/postmark/${em}/events`, { raw: pmEvent, headers: basic, expect: 200, label: 'POST postmark events' });

  // ---- tenant API, read side
  await call(pub, 'GET', '/v1/conversations', { expect: 401, label: 'GET /v1/conversations without key (401)' });
  await call(pub, 'GET', '/v1/conversations', { headers: { authorization: 'Bearer pk_wrong' }, expect: 401, label: 'GET /v1/conversations bad key (401)' });
  const convs = await T('GET', '/v1/conversations?limit=2', { expect: 200 });
  if (convs.json?.next_cursor) await T('GET', `/v1/conversations?limit=2&cursor=${encodeURIComponent(convs.json.next_cursor)}`, { expect: 200, label: 'GET /v1/conversations page 2' });
  await T('GET', '/v1/conversations?limit=x', { expect: 400, label: 'GET /v1/conversations bad limit (400)' });
  const all = await T('GET', '/v1/conversations?limit=50', { expect: 200 });
  const conversations = all.json?.conversations ?? [];
  const byExternal = (ext) => conversations.find((c) => c.contact?.identities?.some((i) => i.external_id === ext));
  const janeWa = byExternal('15551234567');
  const stopper = byExternal('15557654321');
  const tgConv = byExternal('5550001');
  if (janeWa) await T('GET', `/v1/conversations/${janeWa.id}`, { expect: 200 });
  await T('GET', '/v1/conversations/cv_nope', { expect: 404, label: 'GET /v1/conversations/{id} unknown (404)' });
  let waMessage = null;
  if (janeWa) {
    const msgs = await T('GET', `/v1/conversations/${janeWa.id}/messages?limit=1`, { expect: 200 });
    waMessage = msgs.json?.messages?.[0]?.id ?? null;
    if (msgs.json?.next_before) await T('GET', `/v1/conversations/${janeWa.id}/messages?limit=1&before=${msgs.json.next_before}`, { expect: 200, label: 'GET conversation messages page 2' });
  }
  if (tgConv) await T('GET', `/v1/conversations/${tgConv.id}/messages`, { expect: 200 });
  if (waMessage) await T('GET', `/v1/messages/${waMessage}`, { expect: 200 });
  await T('GET', '/v1/messages/msg_nope', { expect: 404, label: 'GET /v1/messages/{id} unknown (404)' });
  await call(pub, 'GET', '/v1/messages/msg_nope', { headers: { authorization: `Bearer ${readKey.json?.api_key}` }, expect: 404, label: 'GET /v1/messages/{id} read key (404)' });
  const events = await T('GET', '/v1/events', { expect: 200 });
  await T('GET', '/v1/events?after=0&limit=2', { expect: 200 });
  await T('GET', '/v1/events?after=nope', { expect: 400, label: 'GET /v1/events bad cursor (400)' });

  // ---- contacts
  const janeContact = janeWa?.contact?.id;
  if (janeContact) {
    await T('PUT', `/v1/contacts/${janeContact}/consent`, { body: { channel_id: wa, opted_in: true }, expect: 200 });
  }
  await T('PUT', '/v1/contacts/ct_nope/consent', { body: { channel_id: 'ch_nope', opted_in: true }, expect: 404, label: 'PUT consent unknown channel (404)' });
  await T('PUT', `/v1/contacts/${janeContact ?? 'ct_x'}/consent`, { body: { channel_id: wa }, valid: false, expect: 400, label: 'PUT consent missing opted_in (400)' });
  await call(pub, 'PUT', `/v1/contacts/${janeContact ?? 'ct_x'}/consent`, { headers: { authorization: `Bearer ${readKey.json?.api_key}` }, body: { channel_id: wa, opted_in: true }, valid: false, expect: 403, label: 'PUT consent with read-only key (403)' });

  // ---- sending (the 202 is what counts; deliveries go to a closed port and are retried)
  const sendAuth = { authorization: `Bearer ${sendKey.json?.api_key}` };
  const S = (target, body, opts = {}) => call(pub, 'POST', target, { body, headers: sendAuth, ...opts });
  const text = { channel_id: wa, to: '15551234567', type: 'text', text: { body: 'Your order ships today' }, idempotency_key: 'openapi-order-1' };
  const sent = await S('/v1/messages', text, { expect: 202, label: 'POST /v1/messages text in window' });
  await S('/v1/messages', text, { expect: 200, label: 'POST /v1/messages same idempotency key (200)' });
  await S('/v1/messages', { ...text, text: { body: 'other' } }, { valid: false, expect: 409, label: 'POST /v1/messages idempotency conflict (409)' });
  await S('/v1/messages', { channel_id: wa, to: '15550000000', type: 'text', text: { body: 'cold' } }, { valid: false, expect: 422, label: 'POST /v1/messages window closed (422)' });
  await S('/v1/messages', { channel_id: wa, to: '15557654321', type: 'template', template: { name: 'order_update', language: 'en_US' } }, { valid: false, expect: 422, label: 'POST /v1/messages opted out (422)' });
  await S('/v1/messages', { channel_id: wa, to: '15550000001', type: 'template', priority: 'bulk', template: { name: 'order_update', language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: '48213' }] }] }, send_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'), valid_for_seconds: 7200 }, { expect: 202, label: 'POST /v1/messages scheduled template' });
  await S('/v1/messages', { channel_id: tg, to: '5550001', type: 'text', text: { body: 'hi on telegram' } }, { expect: 202, label: 'POST /v1/messages telegram' });
  await S('/v1/messages', { channel_id: tg, to: '5550001', type: 'template', template: { name: 'x', language: 'en_US' } }, { valid: false, expect: 422, label: 'POST /v1/messages unsupported type (422)' });
  await S('/v1/messages', { channel_id: em, to: 'jane@example.org', type: 'email', email: { subject: 'Your order', text: 'It ships today.', html: '<p>It ships today.</p>' } }, { expect: 202, label: 'POST /v1/messages email' });
  await S('/v1/messages', { channel_id: ms, to: 'psid-1', type: 'image', media: { url: 'https://cdn.acme.example/receipt.png', caption: 'Your receipt' } }, { expect: 202, label: 'POST /v1/messages messenger image' });
  await S('/v1/messages', { channel_id: 'ch_nope', to: '1', type: 'text', text: { body: 'x' } }, { expect: 404, label: 'POST /v1/messages unknown channel (404)' });
  await S('/v1/messages', { channel_id: wa, type: 'text', text: { body: 'x' } }, { valid: false, expect: 400, label: 'POST /v1/messages no recipient (400)' });
  await call(pub, 'POST', '/v1/messages', { raw: '{not json', headers: sendAuth, expect: 400, label: 'POST /v1/messages invalid JSON (400)' });
  await call(pub, 'POST', '/v1/messages', { body: text, headers: { authorization: `Bearer ${readKey.json?.api_key}` }, valid: false, expect: 403, label: 'POST /v1/messages read-only key (403)' });
  await call(pub, 'POST', '/v1/messages', { body: text, valid: false, expect: 401, label: 'POST /v1/messages without key (401)' });
  await S('/v1/messages/batch', { messages: [{ channel_id: tg, to: '5550001', type: 'text', text: { body: 'batch 1' } }, { channel_id: 'ch_nope', to: '1', type: 'text', text: { body: 'batch 2' } }] }, { expect: 200 });
  await S('/v1/messages/batch', { messages: [] }, { valid: false, expect: 400, label: 'POST /v1/messages/batch empty (400)' });
  if (sent.json?.id) await T('GET', `/v1/messages/${sent.json.id}`, { expect: 200, label: 'GET /v1/messages/{id} outbound' });

  // a tenant with a monthly quota of 1 and one of 1 send per second
  const quota = await A('POST', '/v1/admin/tenants', { body: { id: 'quota', limits: { monthly_outbound_quota: 1 } }, expect: 201, label: 'POST /v1/admin/tenants quota' });
  const qch = await A('POST', '/v1/admin/tenants/quota/channels', { body: { type: 'telegram', bot_token: '1:Q', secret_token: 'q', api_base: nowhere }, expect: 201, label: 'POST channels telegram (quota)' });
  const qAuth = { authorization: `Bearer ${quota.json?.api_key}` };
  await call(pub, 'POST', '/v1/messages', { body: { channel_id: qch.json?.id, to: '1', type: 'text', text: { body: 'a' } }, headers: qAuth, expect: 202, label: 'POST /v1/messages within quota' });
  await call(pub, 'POST', '/v1/messages', { body: { channel_id: qch.json?.id, to: '1', type: 'text', text: { body: 'b' } }, headers: qAuth, valid: false, expect: 429, label: 'POST /v1/messages quota exceeded (429)' });
  const slow = await A('POST', '/v1/admin/tenants', { body: { id: 'slow', limits: { send_requests_per_second: 1 } }, expect: 201, label: 'POST /v1/admin/tenants slow' });
  const sch = await A('POST', '/v1/admin/tenants/slow/channels', { body: { type: 'telegram', bot_token: '1:S', secret_token: 's', api_base: nowhere }, expect: 201, label: 'POST channels telegram (slow)' });
  const slowAuth = { authorization: `Bearer ${slow.json?.api_key}` };
  const rl = [];
  for (let i = 0; i < 3; ++i) {
    rl.push(await call(pub, 'POST', '/v1/messages', { body: { channel_id: sch.json?.id, to: String(10 + i), type: 'text', text: { body: 'r' } }, headers: slowAuth, label: `POST /v1/messages rate limit #${i + 1}` }));
  }
  if (!rl.some((r) => r.status === 429)) results.notes.push('no 429 rate_limited seen at send_requests_per_second=1');

  // ---- events webhook: point it at the sink, check status, replay
  await A('PATCH', '/v1/admin/tenants/acme', { body: { events_webhook: { url: sink.url, secret: 'whsec_openapi' } }, expect: 200, label: 'PATCH tenant events_webhook' });
  await A('GET', '/v1/admin/tenants/acme/events-webhook', { expect: 200 });
  await A('PUT', '/v1/admin/tenants/acme/events-webhook/cursor', { body: { cursor: '0' }, expect: 200 });
  await A('PUT', '/v1/admin/tenants/acme/events-webhook/cursor', { body: { cursor: 'x' }, valid: false, expect: 400, label: 'PUT events-webhook cursor bad (400)' });
  const tail = events.json?.next_cursor ?? '0';
  await T('GET', `/v1/events?after=${tail}&wait=1`, { expect: 200, label: 'GET /v1/events long-poll' });

  // ---- merge: the Telegram contact into Jane's
  if (janeContact && tgConv) {
    await T('POST', `/v1/contacts/${janeContact}/merge`, { body: { other_contact_id: tgConv.contact.id }, expect: 200 });
    await T('GET', `/v1/conversations/${tgConv.id}`, { expect: 404, label: 'GET merged-away conversation (404)' });
  }
  await T('POST', '/v1/contacts/ct_nope/merge', { body: { other_contact_id: 'ct_nope2' }, expect: 404, label: 'POST merge unknown (404)' });

  // ---- operations
  await A('POST', '/v1/admin/checkpoints', { body: { path: path.join(tmp, 'checkpoint-1') }, expect: 201 });
  await A('POST', '/v1/admin/checkpoints', { body: { path: path.join(tmp, 'checkpoint-1') }, expect: 409, label: 'POST /v1/admin/checkpoints existing path (409)' });
  await A('POST', '/v1/admin/checkpoints', { body: {}, valid: false, expect: 400, label: 'POST /v1/admin/checkpoints no path (400)' });
  await A('GET', '/v1/admin/audit?tenant=acme&limit=20', { expect: 200 });
  await A('GET', '/v1/admin/audit', { expect: 200, label: 'GET /v1/admin/audit all' });

  // ---- admin data routes (may be missing in this build)
  const today = new Date().toISOString().slice(0, 10);
  await maybeMissing(admin, adminAuth, 'GET', `/v1/admin/tenants/acme/usage?from=${today}&to=${today}`, { expect: 200 });
  await maybeMissing(admin, adminAuth, 'GET', '/v1/admin/tenants/acme/usage', { expect: 200, label: 'GET usage (default range)' });
  await maybeMissing(admin, adminAuth, 'GET', '/v1/admin/tenants/acme/export', { expect: 200 });
  if (janeContact) await maybeMissing(admin, adminAuth, 'GET', `/v1/admin/tenants/acme/contacts/${janeContact}/export`, { expect: 200 });
  if (waMessage) {
    const del = await maybeMissing(admin, adminAuth, 'DELETE', `/v1/admin/tenants/acme/messages/${waMessage}`, { expect: 204 });
    if (!del.missing && del.status === 204) await T('GET', `/v1/messages/${waMessage}`, { expect: 404, label: 'GET forgotten message (404)' });
  }
  if (stopper?.contact?.id) {
    const del = await maybeMissing(admin, adminAuth, 'DELETE', `/v1/admin/tenants/acme/contacts/${stopper.contact.id}`, { expect: 202 });
    if (!del.missing && del.status === 202) await T('GET', `/v1/conversations/${stopper.id}`, { expect: 404, label: 'GET erased conversation (404)' });
  }

  // ---- teardown routes
  await A('DELETE', `/v1/admin/tenants/acme/channels/${ig}`, { expect: 204 });
  await A('DELETE', `/v1/admin/tenants/acme/channels/${ig}`, { expect: 404, label: 'DELETE channel again (404)' });
  await postMeta('instagram', ig, igBody, 'ig-secret', 'POST instagram webhook deleted channel (404)', 404);
  await A('DELETE', `/v1/admin/tenants/acme/api-keys/${readKey.json?.id}`, { expect: 204 });
  await call(pub, 'GET', '/v1/conversations', { headers: { authorization: `Bearer ${readKey.json?.api_key}` }, expect: 401, label: 'GET /v1/conversations revoked key (401)' });
  await A('DELETE', '/v1/admin/tenants/acme/api-keys/key_nope', { expect: 404, label: 'DELETE api key unknown (404)' });
  await A('DELETE', '/v1/admin/tenants/slow', { expect: 202 });
  await A('GET', '/v1/admin/tenants/slow', { expect: [200, 404], label: 'GET deleted tenant' });
  await A('GET', '/v1/admin/tenants', { expect: 200, label: 'GET /v1/admin/tenants after delete' });
  await A('DELETE', '/v1/admin/tenants/nobody', { expect: 404, label: 'DELETE unknown tenant (404)' });

  // the push sink saw signed batches?
  const pushed = sink.received.filter((r) => r.headers['x-parley-signature']);
  const goodSig = pushed.filter((r) => {
    const m = /t=(\d+),v1=([0-9a-f]+)/.exec(r.headers['x-parley-signature']);
    return m && hmacHex('whsec_openapi', `${m[1]}.${r.body}`) === m[2];
  });
  if (pushed.length > 0) console.log(`event push: ${pushed.length} batch(es) received, ${goodSig.length} with a valid signature`);
  if (pushed.length !== goodSig.length) results.notes.push('an event push batch had a bad X-Parley-Signature');
}

// Ctrl-C or a CI timeout: stop parleyd and remove the temp dir before going.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    await stopParleyd().catch(() => null);
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
}

let fatal = null;
try {
  await main();
} catch (e) {
  fatal = e;
}
const exit = await stopParleyd().catch(() => null);
if (sink) sink.server.close();
fs.rmSync(tmp, { recursive: true, force: true });

if (fatal) {
  console.error(`validate_live: ${fatal.message}`);
  if (stderrTail) console.error(`parleyd stderr (tail):\n${stderrTail}`);
}
if (exit && exit.code !== 0 && exit.code !== null) results.notes.push(`parleyd exited with code ${exit.code} after SIGTERM`);

console.log('\nroutes exercised:');
for (const [route, statuses] of [...results.exercised.entries()].sort()) console.log(`  ${route}  ${[...statuses].sort().join(' ')}`);
const specOps = routes.flatMap((r) => METHODS.filter((m) => r.item[m]).map((m) => `${m.toUpperCase()} ${r.template}`));
const untouched = specOps.filter((op) => !results.exercised.has(op) && !results.notImplemented.includes(op));
if (untouched.length) console.log(`not exercised: ${untouched.join(', ')}`);
if (results.notImplemented.length) console.log(`not routed (404 for every method): ${[...new Set(results.notImplemented)].join(', ')}`);
if (results.notes.length) console.log(`notes (scenario expectations, not spec failures):\n  ${results.notes.join('\n  ')}`);
if (results.failures.length) console.log(`failures:\n  ${results.failures.join('\n  ')}`);
console.log(`${results.passed} passed, ${results.failed + (fatal ? 1 : 0)} failed`);
process.exit(fatal ? (results.passed === 0 ? 2 : 1) : results.failed > 0 ? 1 : 0);
