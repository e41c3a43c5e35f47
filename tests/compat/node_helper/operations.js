#!/usr/bin/env node
/*
 * Drives a flexplugins server with the vendor's general Node helper library (`twilio` on npm),
 * through every Plugin Service operation of `client.flexApi.v1`, and checks every answer.
 *
 * Usage: node operations.js BASE_URL ACCOUNT_SID AUTH_TOKEN
 *    or: FLEXPLUGINS_URL=… FLEXPLUGINS_ACCOUNT_SID=… FLEXPLUGINS_AUTH_TOKEN=… node operations.js
 *
 * The only change to the library is the FlexApi domain's base URL: `client.flexApi.baseUrl = BASE`
 * (the domain is built with "https://flex-api.twilio.com" and every resource URI is
 * `${baseUrl}/v1/PluginService/…`; the client's edge/region hostname rewrite leaves 127.0.0.1 and
 * localhost alone). Every exchange goes through the library's own RequestClient (axios), subclassed
 * only to record the method, full URL, form body, headers, status and the raw response text, which
 * the summary returns so the Python side can validate each body against the vendor's OpenAPI file.
 *
 * The account must be fresh. Every step runs even when an earlier one failed (as far as its inputs
 * exist), so that one run reports every discrepancy. Progress and failures go to stderr; a JSON
 * summary goes to stdout. Exit status 0 only when every check passed.
 */
'use strict';

const assert = require('assert').strict;
const twilio = require('twilio');

const { RequestClient, RestException } = twilio;

const [argUrl, argSid, argToken] = process.argv.slice(2);
const BASE = (argUrl || process.env.FLEXPLUGINS_URL || '').replace(/\/+$/, '');
const SID = argSid || process.env.FLEXPLUGINS_ACCOUNT_SID;
const TOKEN = argToken || process.env.FLEXPLUGINS_AUTH_TOKEN;
if (!BASE || !SID || !TOKEN) {
  process.stderr.write('usage: node operations.js BASE_URL ACCOUNT_SID AUTH_TOKEN\n');
  process.exit(2);
}
const SERVICE = `${BASE}/v1/PluginService`;
const METADATA = '{"tool":"twilio-node-compat"}';

/** Every exchange the library makes, with the raw response text. */
const exchanges = [];

/** The library's own HTTP client, recording each exchange (and changing nothing). */
class RecordingClient extends RequestClient {
  constructor(opts) {
    super(opts);
    const axios = this.axios;
    const parsers = [].concat(axios.defaults.transformResponse || []);
    // transformResponse runs with `this` bound to the request config: keep the text as received.
    axios.defaults.transformResponse = [
      function keepRawBody(data) {
        this.rawBody = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : data;
        return data;
      },
      ...parsers,
    ];
    axios.interceptors.response.use((response) => {
      const config = response.config;
      const url = new URL(axios.getUri(config));
      const headers = {};
      for (const name of ['Content-Type', 'Flex-Metadata', 'Accept', 'User-Agent']) {
        const value = config.headers && config.headers.get ? config.headers.get(name) : undefined;
        if (value !== undefined && value !== null) headers[name] = String(value);
      }
      exchanges.push({
        method: (config.method || 'get').toUpperCase(),
        url: url.href,
        path: url.pathname,
        query: url.search,
        requestBody: typeof config.data === 'string' ? config.data : null,
        requestHeaders: headers,
        status: response.status,
        contentType: response.headers['content-type'] || null,
        body: config.rawBody === undefined ? null : config.rawBody,
      });
      return response;
    });
  }
}

const client = twilio(SID, TOKEN, { httpClient: new RecordingClient({ timeout: 30000 }) });
client.flexApi.baseUrl = BASE; // the one change: where the FlexApi domain lives
const api = client.flexApi.v1;

const SID_RE = (prefix) => new RegExp(`^${prefix}[0-9a-f]{32}$`);

const state = {};
const summary = { steps: [], failures: [] };

function describeError(err) {
  if (err instanceof RestException) {
    return `RestException(status=${err.status}, code=${err.code}, message=${JSON.stringify(err.message)})`;
  }
  return (err && err.stack) || String(err);
}

async function step(name, needs, fn) {
  const missing = needs.filter((key) => state[key] === undefined);
  if (missing.length) {
    const message = `skipped: an earlier step did not produce ${missing.join(', ')}`;
    summary.steps.push({ name, ok: false, skipped: true });
    summary.failures.push({ step: name, error: message });
    process.stderr.write(`SKIP ${name}: ${message}\n`);
    return;
  }
  const before = exchanges.length;
  try {
    await fn(() => exchanges.slice(before));
    summary.steps.push({ name, ok: true });
    process.stderr.write(`ok   ${name}\n`);
  } catch (err) {
    const error = describeError(err);
    const sent = exchanges
      .slice(before)
      .map((e) => `${e.method} ${e.url}${e.requestBody ? ` ${e.requestBody}` : ''} -> ${e.status} ${e.body}`);
    summary.steps.push({ name, ok: false });
    summary.failures.push({ step: name, error, exchanges: sent });
    process.stderr.write(`FAIL ${name}: ${error}\n  exchanges of this step:\n    ${sent.join('\n    ')}\n`);
  }
}

/** Runs fn and returns the RestException it must throw. */
async function expectRestException(fn, label) {
  let thrown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown, `${label}: expected a RestException, but the call succeeded`);
  assert.ok(thrown instanceof RestException, `${label}: expected a RestException, got ${describeError(thrown)}`);
  return thrown;
}

function assertDate(value, label) {
  assert.ok(value instanceof Date && !Number.isNaN(value.getTime()), `${label}: not a date: ${value}`);
}

/** Runs `each` with a callback and resolves with every item, or rejects with the error. */
function eachAll(resource, params) {
  return new Promise((resolve, reject) => {
    const items = [];
    resource.each({
      ...params,
      callback: (item) => items.push(item),
      done: (error) => (error ? reject(error) : resolve(items)),
    });
  });
}

/** The GET exchanges of a paged read: first PageSize=n, then the server's next_page_url, followed as given. */
function assertPaged(calls, path, pageSize, pages) {
  const gets = calls.filter((e) => e.method === 'GET' && e.path === path);
  assert.equal(gets.length, pages, `${path}: expected ${pages} page requests, saw ${gets.map((e) => e.url)}`);
  assert.equal(new URL(gets[0].url).searchParams.get('PageSize'), String(pageSize), gets[0].url);
  for (let i = 1; i < gets.length; i += 1) {
    const previous = JSON.parse(gets[i - 1].body);
    assert.equal(gets[i].url, previous.meta.next_page_url, 'follows meta.next_page_url as given');
    assert.ok(new URL(gets[i].url).searchParams.get('PageToken'), `page ${i + 1} carries a PageToken`);
  }
  assert.equal(JSON.parse(gets[gets.length - 1].body).meta.next_page_url, null, 'the last page has no next');
}

async function main() {
  const url = (name, version) => `https://cdn.example.com/${name}/${version}/bundle.js`;

  await step('releases: a fresh account has none, and Active is a 404', [], async () => {
    assert.deepEqual(await api.pluginReleases.list(), []);
    const err = await expectRestException(() => api.pluginReleases('Active').fetch(), 'Active before any release');
    assert.equal(err.status, 404);
    assert.equal(err.code, 20404);
  });

  await step('plugins.create with flexMetadata', [], async (calls) => {
    const p = await api.plugins.create({
      uniqueName: 'helper-sample',
      friendlyName: 'Sample',
      description: 'first',
      flexMetadata: METADATA,
    });
    assert.match(p.sid, SID_RE('FP'));
    assert.equal(p.accountSid, SID);
    assert.equal(p.uniqueName, 'helper-sample');
    assert.equal(p.friendlyName, 'Sample');
    assert.equal(p.description, 'first');
    assert.equal(p.archived, false);
    assertDate(p.dateCreated, 'dateCreated');
    assertDate(p.dateUpdated, 'dateUpdated');
    assert.equal(p.url, `${SERVICE}/Plugins/${p.sid}`);
    assert.deepEqual(p.links, { plugin_versions: `${SERVICE}/Plugins/${p.sid}/Versions` });
    const [sent] = calls();
    assert.equal(sent.status, 201);
    assert.equal(sent.requestHeaders['Flex-Metadata'], METADATA);
    assert.equal(sent.requestHeaders['Content-Type'], 'application/x-www-form-urlencoded');
    assert.equal(sent.requestBody, 'UniqueName=helper-sample&FriendlyName=Sample&Description=first');
    state.sample = p.sid;
  });

  await step('plugins(sid).fetch and plugins(uniqueName).fetch', ['sample'], async () => {
    const bySid = await api.plugins(state.sample).fetch({ flexMetadata: METADATA });
    assert.equal(bySid.uniqueName, 'helper-sample');
    const byName = await api.plugins('helper-sample').fetch();
    assert.equal(byName.sid, state.sample);
  });

  await step('plugins(sid).update', ['sample'], async () => {
    const updated = await api.plugins(state.sample).update({
      friendlyName: 'Sample 2',
      description: 'second',
      flexMetadata: METADATA,
    });
    assert.equal(updated.sid, state.sample);
    assert.equal(updated.friendlyName, 'Sample 2');
    assert.equal(updated.description, 'second');
    const again = await api.plugins(state.sample).fetch();
    assert.equal(again.friendlyName, 'Sample 2');
    assert.ok(again.dateUpdated.getTime() >= again.dateCreated.getTime());
  });

  await step('errors: a missing plugin is 404/20404, a duplicate 409/20409', ['sample'], async () => {
    const missing = await expectRestException(
      () => api.plugins('helper-no-such-plugin').fetch(),
      'fetch a missing plugin',
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.code, 20404);
    assert.equal(missing.moreInfo, 'https://www.twilio.com/docs/errors/20404');
    assert.ok(missing.message && missing.message.length > 0);
    const duplicate = await expectRestException(
      () => api.plugins.create({ uniqueName: 'helper-sample' }),
      'create a duplicate plugin',
    );
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.code, 20409);
    assert.equal(duplicate.moreInfo, 'https://www.twilio.com/docs/errors/20409');
    state.errors = {
      missing: { status: missing.status, code: missing.code, moreInfo: missing.moreInfo },
      duplicate: { status: duplicate.status, code: duplicate.code, moreInfo: duplicate.moreInfo },
    };
  });

  await step('pluginVersions.create five versions', ['sample'], async (calls) => {
    const versions = [];
    for (let n = 0; n < 5; n += 1) {
      versions.push(
        await api.plugins(state.sample).pluginVersions.create({
          version: `1.${n}.0`,
          pluginUrl: url('sample', `1.${n}.0`),
          changelog: `change ${n}`,
          private: n === 4,
          cliVersion: '7.0.0',
          validateStatus: 'validated',
          flexMetadata: METADATA,
        }),
      );
    }
    const v0 = versions[0];
    assert.match(v0.sid, SID_RE('FV'));
    assert.equal(v0.pluginSid, state.sample);
    assert.equal(v0.accountSid, SID);
    assert.equal(v0.version, '1.0.0');
    assert.equal(v0.pluginUrl, url('sample', '1.0.0'));
    assert.equal(v0.changelog, 'change 0');
    assert.equal(v0._private, false); // the library exposes `private` as `_private`
    assert.equal(versions[4]._private, true);
    assert.equal(v0.validated, true);
    assert.equal(v0.archived, false);
    assertDate(v0.dateCreated, 'dateCreated');
    assert.equal(v0.url, `${SERVICE}/Plugins/${state.sample}/Versions/${v0.sid}`);
    assert.equal(
      calls()[4].requestBody,
      `Version=1.4.0&PluginUrl=${encodeURIComponent(url('sample', '1.4.0'))}&Changelog=change%204` +
        '&Private=true&CliVersion=7.0.0&ValidateStatus=validated',
    );
    state.versions = versions.map((v) => v.sid);
  });

  await step('pluginVersions fetch by SID and by version string', ['versions'], async () => {
    const bySid = await api.plugins(state.sample).pluginVersions(state.versions[3]).fetch();
    assert.equal(bySid.version, '1.3.0');
    const byString = await api.plugins('helper-sample').pluginVersions('1.2.0').fetch({ flexMetadata: METADATA });
    assert.equal(byString.sid, state.versions[2]);
    assert.equal(byString.pluginSid, state.sample);
  });

  await step('pluginVersions list/each with pageSize 2 span three pages, newest first', ['versions'], async (calls) => {
    const path = `/v1/PluginService/Plugins/${state.sample}/Versions`;
    const listed = await api.plugins(state.sample).pluginVersions.list({ pageSize: 2 });
    assert.deepEqual(
      listed.map((v) => v.version),
      ['1.4.0', '1.3.0', '1.2.0', '1.1.0', '1.0.0'],
    );
    assertPaged(calls(), path, 2, 3);
    const before = calls().length;
    const each = await eachAll(api.plugins(state.sample).pluginVersions, { pageSize: 2 });
    assert.deepEqual(
      each.map((v) => v.sid),
      [...state.versions].reverse(),
    );
    assertPaged(calls().slice(before), path, 2, 3);
    const limited = await api.plugins(state.sample).pluginVersions.list({ limit: 3 });
    assert.deepEqual(
      limited.map((v) => v.version),
      ['1.4.0', '1.3.0', '1.2.0'],
    );
  });

  await step('plugins list/each with pageSize 2 span three pages', ['sample'], async (calls) => {
    const others = [];
    for (let n = 0; n < 4; n += 1) others.push(await api.plugins.create({ uniqueName: `helper-${n}` }));
    state.others = others.map((p) => p.sid);
    const before = calls().length;
    const listed = await api.plugins.list({ pageSize: 2, flexMetadata: METADATA });
    const names = ['helper-3', 'helper-2', 'helper-1', 'helper-0', 'helper-sample'];
    assert.deepEqual(
      listed.map((p) => p.uniqueName),
      names,
    );
    assertPaged(calls().slice(before), '/v1/PluginService/Plugins', 2, 3);
    const each = await eachAll(api.plugins, { pageSize: 2 });
    assert.deepEqual(
      each.map((p) => p.uniqueName),
      names,
    );
    const zero = await api.plugins(state.others[0]).pluginVersions.create({
      version: '0.1.0',
      pluginUrl: url('zero', '0.1.0'),
    });
    state.zeroVersion = zero.sid;
  });

  await step('pluginConfigurations.create with plugins [{plugin_version, phase}]', ['versions', 'zeroVersion'], async (calls) => {
    const first = await api.pluginConfigurations.create({
      name: 'first',
      description: 'two plugins',
      plugins: [{ plugin_version: state.versions[1], phase: 3 }, { plugin_version: state.zeroVersion }],
      flexMetadata: METADATA,
    });
    assert.match(first.sid, SID_RE('FJ'));
    assert.equal(first.accountSid, SID);
    assert.equal(first.name, 'first');
    assert.equal(first.description, 'two plugins');
    assert.equal(first.archived, false);
    assertDate(first.dateCreated, 'dateCreated');
    assert.equal(first.url, `${SERVICE}/Configurations/${first.sid}`);
    assert.deepEqual(first.links, { plugins: `${SERVICE}/Configurations/${first.sid}/Plugins` });
    // The library sends each plugin as a repeated field holding JSON.stringify of the object.
    const form = new URLSearchParams(calls()[0].requestBody);
    assert.deepEqual(form.getAll('Plugins'), [
      `{"plugin_version":"${state.versions[1]}","phase":3}`,
      `{"plugin_version":"${state.zeroVersion}"}`,
    ]);
    state.first = first.sid;
  });

  await step('pluginConfigurations fetch, (sid).plugins list and fetch by SID and name', ['first'], async () => {
    const fetched = await api.pluginConfigurations(state.first).fetch({ flexMetadata: METADATA });
    assert.equal(fetched.name, 'first');
    const configured = await api.pluginConfigurations(state.first).plugins.list({ flexMetadata: METADATA });
    assert.deepEqual(
      configured.map((c) => [c.uniqueName, c.version, c.phase]),
      [
        ['helper-0', '0.1.0', 0],
        ['helper-sample', '1.1.0', 3],
      ],
    );
    const c = configured[1];
    assert.equal(c.accountSid, SID);
    assert.equal(c.configurationSid, state.first);
    assert.equal(c.pluginSid, state.sample);
    assert.equal(c.pluginVersionSid, state.versions[1]);
    assert.equal(c.pluginUrl, url('sample', '1.1.0'));
    assert.equal(c.friendlyName, 'Sample 2');
    assert.equal(c._private, false);
    assert.equal(c.pluginArchived, false);
    assert.equal(c.pluginVersionArchived, false);
    assertDate(c.dateCreated, 'dateCreated');
    assert.equal(c.url, `${SERVICE}/Configurations/${state.first}/Plugins/${state.sample}`);
    const bySid = await api.pluginConfigurations(state.first).plugins(state.sample).fetch();
    assert.equal(bySid.pluginVersionSid, state.versions[1]);
    const byName = await api.pluginConfigurations(state.first).plugins('helper-sample').fetch({ flexMetadata: METADATA });
    assert.equal(byName.version, '1.1.0');
    assert.equal(byName.pluginSid, state.sample);
  });

  await step('pluginConfigurations list/each with pageSize 1, newest first', ['first', 'versions'], async (calls) => {
    const second = await api.pluginConfigurations.create({
      name: 'second',
      plugins: [{ plugin_version: state.versions[2], phase: 3 }],
    });
    state.second = second.sid;
    const before = calls().length;
    const listed = await api.pluginConfigurations.list({ pageSize: 1, flexMetadata: METADATA });
    assert.deepEqual(
      listed.map((c) => c.name),
      ['second', 'first'],
    );
    assertPaged(calls().slice(before), '/v1/PluginService/Configurations', 1, 2);
    const each = await eachAll(api.pluginConfigurations, { pageSize: 1 });
    assert.deepEqual(
      each.map((c) => c.sid),
      [state.second, state.first],
    );
  });

  await step('pluginReleases create, fetch by SID and Active, list/each, rollback', ['first', 'second'], async (calls) => {
    const r1 = await api.pluginReleases.create({ configurationId: state.first, flexMetadata: METADATA });
    assert.match(r1.sid, SID_RE('FK'));
    assert.equal(r1.accountSid, SID);
    assert.equal(r1.configurationSid, state.first);
    assertDate(r1.dateCreated, 'dateCreated');
    assert.equal(r1.url, `${SERVICE}/Releases/${r1.sid}`);
    assert.equal(calls()[0].requestBody, `ConfigurationId=${state.first}`);
    assert.equal((await api.pluginReleases('Active').fetch()).sid, r1.sid);
    const r2 = await api.pluginReleases.create({ configurationId: state.second });
    const active2 = await api.pluginReleases('Active').fetch({ flexMetadata: METADATA });
    assert.equal(active2.sid, r2.sid);
    assert.equal(active2.configurationSid, state.second);
    const rollback = await api.pluginReleases.create({ configurationId: state.first });
    const active = await api.pluginReleases('Active').fetch();
    assert.equal(active.sid, rollback.sid);
    assert.equal(active.configurationSid, state.first);
    assert.equal((await api.pluginReleases(r2.sid).fetch()).configurationSid, state.second);
    const before = calls().length;
    const listed = await api.pluginReleases.list({ pageSize: 2, flexMetadata: METADATA });
    assert.deepEqual(
      listed.map((r) => r.sid),
      [rollback.sid, r2.sid, r1.sid],
    );
    assertPaged(calls().slice(before), '/v1/PluginService/Releases', 2, 2);
    const each = await eachAll(api.pluginReleases, { pageSize: 2 });
    assert.deepEqual(
      each.map((r) => r.sid),
      [rollback.sid, r2.sid, r1.sid],
    );
    state.releases = [rollback.sid, r2.sid, r1.sid];
  });

  await step('pluginVersionArchive(pluginSid, sid).update, idempotent', ['versions'], async () => {
    const archived = await api.pluginVersionArchive(state.sample, state.versions[0]).update({ flexMetadata: METADATA });
    assert.equal(archived.sid, state.versions[0]);
    assert.equal(archived.pluginSid, state.sample);
    assert.equal(archived.archived, true);
    assert.equal(archived._private, false);
    // The archive answers carry no `links`, and their `url` is the Archive URL (as in the vendor's examples).
    assert.equal(archived.url, `${SERVICE}/Plugins/${state.sample}/Versions/${state.versions[0]}/Archive`);
    assert.equal((await api.pluginVersionArchive(state.sample, state.versions[0]).update()).archived, true);
    assert.equal((await api.plugins(state.sample).pluginVersions(state.versions[0]).fetch()).archived, true);
    state.archivedVersion = state.versions[0];
  });

  await step('pluginConfigurationArchive(sid).update', ['second', 'releases'], async () => {
    const archived = await api.pluginConfigurationArchive(state.second).update({ flexMetadata: METADATA });
    assert.equal(archived.sid, state.second);
    assert.equal(archived.name, 'second');
    assert.equal(archived.archived, true);
    assert.equal(archived.url, `${SERVICE}/Configurations/${state.second}/Archive`);
    assert.equal((await api.pluginConfigurations(state.second).fetch()).archived, true);
    state.archivedConfiguration = state.second;
  });

  await step('pluginArchive(sid).update', ['others'], async () => {
    const target = state.others[3];
    const archived = await api.pluginArchive(target).update({ flexMetadata: METADATA });
    assert.equal(archived.sid, target);
    assert.equal(archived.uniqueName, 'helper-3');
    assert.equal(archived.archived, true);
    assert.equal(archived.url, `${SERVICE}/Plugins/${target}/Archive`);
    assert.equal((await api.plugins(target).fetch()).archived, true);
    state.archivedPlugin = target;
  });

  await step('archiving a version of the active release is refused: 409/20409', ['versions', 'releases'], async () => {
    const refused = await expectRestException(
      () => api.pluginVersionArchive(state.sample, state.versions[1]).update(),
      'archive an active version',
    );
    assert.equal(refused.status, 409);
    assert.equal(refused.code, 20409);
    assert.equal((await api.plugins(state.sample).pluginVersions(state.versions[1]).fetch()).archived, false);
  });

  summary.ok = summary.failures.length === 0;
  summary.accountSid = SID;
  summary.library = require('twilio/package.json').version;
  summary.flexMetadata = METADATA;
  summary.plugins = { 'helper-sample': state.sample, others: state.others };
  summary.versions = state.versions;
  summary.zeroVersion = state.zeroVersion;
  summary.configurations = { first: state.first, second: state.second };
  summary.releases = state.releases; // newest first
  summary.archived = {
    pluginVersion: state.archivedVersion,
    plugin: state.archivedPlugin,
    configuration: state.archivedConfiguration,
  };
  summary.errors = state.errors;
}

main()
  .catch((err) => {
    summary.ok = false;
    summary.failures.push({ step: '(driver)', error: describeError(err) });
  })
  .finally(() => {
    summary.ok = summary.ok === true && summary.failures.length === 0;
    summary.exchanges = exchanges;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (!summary.ok) {
      process.stderr.write(`${summary.failures.length} failure(s); see above\n`);
    }
    process.exitCode = summary.ok ? 0 : 1;
  });
