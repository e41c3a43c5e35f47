#!/usr/bin/env node
/*
 * Drives a flexplugins server with the vendor's Node toolkit (@twilio/flex-plugins-api-client),
 * through the whole workflow of the `flex:plugins` CLI, and checks every answer.
 *
 * Usage: node workflow.js BASE_URL ACCOUNT_SID AUTH_TOKEN
 *    or: FLEXPLUGINS_URL=… FLEXPLUGINS_ACCOUNT_SID=… FLEXPLUGINS_AUTH_TOKEN=… node workflow.js
 *
 * The account must be fresh (no plugins, configurations or releases). Every step runs even when an
 * earlier one failed (as far as its inputs exist), so that one run reports every discrepancy.
 * Progress and failures go to stderr; a JSON summary goes to stdout. Exit status 0 only when every
 * check passed.
 */
'use strict';

const assert = require('assert').strict;
const path = require('path');

const clientPackage = path.dirname(require.resolve('@twilio/flex-plugins-api-client/package.json'));
const { PluginServiceHTTPClient, FlexPluginsAPIToolkitBase } = require('@twilio/flex-plugins-api-client');
// The error class the toolkit itself throws: resolved from the toolkit's own location so that
// `instanceof` compares against the very same class object.
const { TwilioApiError } = require(require.resolve('@twilio/flex-plugins-utils-exception', {
  paths: [clientPackage],
}));

const [argUrl, argSid, argToken] = process.argv.slice(2);
const BASE = (argUrl || process.env.FLEXPLUGINS_URL || '').replace(/\/+$/, '');
const SID = argSid || process.env.FLEXPLUGINS_ACCOUNT_SID;
const TOKEN = argToken || process.env.FLEXPLUGINS_AUTH_TOKEN;
if (!BASE || !SID || !TOKEN) {
  process.stderr.write('usage: node workflow.js BASE_URL ACCOUNT_SID AUTH_TOKEN\n');
  process.exit(2);
}

const http = new PluginServiceHTTPClient(SID, TOKEN);
http.client.defaults.baseURL = `${BASE}/v1/PluginService`;
const tk = new FlexPluginsAPIToolkitBase(http);

// Every request the toolkit makes, for the failure reports.
const requests = [];
http.client.interceptors.request.use((config) => {
  requests.push(`${(config.method || 'get').toUpperCase()} ${config.url}${config.data ? ` ${config.data}` : ''}`);
  return config;
});

const SID_RE = (prefix) => new RegExp(`^${prefix}[0-9a-f]{32}$`);
const DATE_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

const state = {};
const summary = { steps: [], failures: [] };

function describeError(err) {
  if (err instanceof TwilioApiError) {
    return `TwilioApiError(status=${err.status}, code=${err.code}, message=${JSON.stringify(err.message)})`;
  }
  if (err && err.isAxiosError) {
    const cfg = err.config || {};
    const resp = err.response;
    return (
      `HTTP error on ${(cfg.method || '').toUpperCase()} ${cfg.url}: ` +
      (resp ? `status ${resp.status}, body ${JSON.stringify(resp.data)}` : err.message)
    );
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
  const before = requests.length;
  try {
    await fn();
    summary.steps.push({ name, ok: true });
    process.stderr.write(`ok   ${name}\n`);
  } catch (err) {
    const error = describeError(err);
    const sent = requests.slice(before);
    summary.steps.push({ name, ok: false });
    summary.failures.push({ step: name, error, requests: sent });
    process.stderr.write(`FAIL ${name}: ${error}\n  requests of this step:\n    ${sent.join('\n    ')}\n`);
  }
}

/** Runs fn and returns the TwilioApiError it must throw. */
async function expectApiError(fn, label) {
  let thrown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown, `${label}: expected a TwilioApiError, but the call succeeded`);
  assert.ok(
    thrown instanceof TwilioApiError,
    `${label}: expected a TwilioApiError (a vendor error body with more_info), got ${describeError(thrown)}`,
  );
  return thrown;
}

function byName(list) {
  return Object.fromEntries(list.map((item) => [item.name, item]));
}

function pluginSummary(plugins) {
  return plugins.map((p) => `${p.name}@${p.version}`);
}

async function main() {
  const A = 'compat-alpha';
  const B = 'compat-bravo';
  const C = 'compat-charlie';
  const url = (name, version) => `https://assets.example.com/plugins/${name}/${version}/bundle.js`;

  await step('listReleases on a fresh account is empty', [], async () => {
    const result = await tk.listReleases({});
    assert.deepEqual(result.releases, [], 'no releases yet');
    assert.equal(result.meta.key, 'releases');
    assert.equal(result.meta.next_page_url, null);
  });

  await step('describeRelease Active before any release is a 404', [], async () => {
    const err = await expectApiError(() => tk.describeRelease({ sid: 'Active' }), 'describeRelease Active');
    assert.equal(err.status, 404);
    assert.equal(err.code, 20404);
  });

  // --- deploy: create, then upsert the same plugin twice (update and plain re-use) -----------
  await step('deploy alpha 1.0.0 creates the plugin', [], async () => {
    const d = await tk.deploy({
      name: A,
      friendlyName: 'Alpha',
      description: 'The first plugin',
      version: '1.0.0',
      url: url(A, '1.0.0'),
      changelog: 'first release',
      isPrivate: false,
    });
    assert.match(d.pluginSid, SID_RE('FP'));
    assert.match(d.pluginVersionSid, SID_RE('FV'));
    assert.equal(d.name, A);
    assert.equal(d.version, '1.0.0');
    assert.equal(d.url, url(A, '1.0.0'));
    assert.equal(d.friendlyName, 'Alpha');
    assert.equal(d.description, 'The first plugin');
    assert.equal(d.changelog, 'first release');
    assert.equal(d.isPrivate, false);
    assert.equal(d.isArchived, false);
    state.alpha = d.pluginSid;
    state.alpha1 = d.pluginVersionSid;
  });

  await step('deploy alpha 2.0.0 upserts the same plugin and updates its friendly name', ['alpha'], async () => {
    const d = await tk.deploy({
      name: A,
      friendlyName: 'Alpha Two',
      version: '2.0.0',
      url: url(A, '2.0.0'),
      changelog: 'second release',
    });
    assert.equal(d.pluginSid, state.alpha, 'the second deploy must reuse the plugin');
    assert.notEqual(d.pluginVersionSid, state.alpha1);
    assert.match(d.pluginVersionSid, SID_RE('FV'));
    assert.equal(d.name, A);
    assert.equal(d.version, '2.0.0');
    assert.equal(d.friendlyName, 'Alpha Two');
    assert.equal(d.description, 'The first plugin', 'an update without Description keeps it');
    assert.equal(d.isPrivate, false, 'Private defaults to false');
    state.alpha2 = d.pluginVersionSid;
  });

  await step('deploy bravo 1.0.0 (private)', [], async () => {
    const d = await tk.deploy({ name: B, friendlyName: 'Bravo', version: '1.0.0', url: url(B, '1.0.0'), isPrivate: true });
    assert.match(d.pluginSid, SID_RE('FP'));
    assert.equal(d.name, B);
    assert.equal(d.isPrivate, true);
    assert.equal(d.changelog, null);
    state.bravo = d.pluginSid;
    state.bravo1 = d.pluginVersionSid;
  });

  await step('deploy charlie 0.1.0 with no friendly name or description', [], async () => {
    const d = await tk.deploy({ name: C, version: '0.1.0', url: url(C, '0.1.0') });
    assert.match(d.pluginSid, SID_RE('FP'));
    assert.equal(d.name, C);
    assert.equal(d.friendlyName, null);
    assert.equal(d.description, null);
    state.charlie = d.pluginSid;
    state.charlie1 = d.pluginVersionSid;
  });

  await step('deploy charlie 0.2.0 reuses the plugin unchanged', ['charlie'], async () => {
    // The toolkit sends form values unencoded (qs with encode: false): raw UTF-8 and spaces.
    const changelog = 'Première version, déjà prête: 100 % des tests (#12)';
    const d = await tk.deploy({ name: C, version: '0.2.0', url: url(C, '0.2.0'), changelog });
    assert.equal(d.pluginSid, state.charlie);
    assert.equal(d.version, '0.2.0');
    assert.equal(d.friendlyName, null);
    assert.equal(d.changelog, changelog);
    state.charlie2 = d.pluginVersionSid;
  });

  await step('deploy of an existing version is refused with a TwilioApiError', ['charlie'], async () => {
    const err = await expectApiError(
      () => tk.deploy({ name: C, version: '0.2.0', url: url(C, '0.2.0') }),
      'duplicate deploy',
    );
    assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}`);
  });

  // --- first configuration and release --------------------------------------------------------
  await step('createConfiguration first: alpha@1.0.0 and bravo@latest', ['alpha1', 'bravo1'], async () => {
    const c = await tk.createConfiguration({
      name: 'First configuration',
      description: 'alpha and bravo',
      addPlugins: [`${A}@1.0.0`, `${B}@latest`],
    });
    assert.match(c.sid, SID_RE('FJ'));
    assert.equal(c.name, 'First configuration');
    assert.equal(c.description, 'alpha and bravo');
    assert.match(c.dateCreated, DATE_RE);
    assert.deepEqual(pluginSummary(c.plugins), [`${A}@1.0.0`, `${B}@1.0.0`]);
    const p = byName(c.plugins);
    assert.equal(p[A].pluginSid, state.alpha);
    assert.equal(p[A].pluginVersionSid, state.alpha1);
    assert.equal(p[A].url, url(A, '1.0.0'));
    assert.equal(p[A].phase, 3);
    assert.equal(p[A].friendlyName, 'Alpha Two');
    assert.equal(p[A].changelog, 'first release');
    assert.equal(p[A].isPrivate, false);
    assert.equal(p[A].isArchived, false);
    assert.equal(p[B].pluginVersionSid, state.bravo1);
    assert.equal(p[B].isPrivate, true);
    assert.equal(p[B].phase, 3);
    state.config1 = c.sid;
  });

  await step('release first configuration', ['config1'], async () => {
    const r = await tk.release({ configurationSid: state.config1 });
    assert.match(r.releaseSid, SID_RE('FK'));
    assert.equal(r.configurationSid, state.config1);
    assert.match(r.dateCreated, DATE_RE);
    state.release1 = r.releaseSid;
  });

  await step('describeRelease of the first release: active', ['release1'], async () => {
    const r = await tk.describeRelease({ sid: state.release1 });
    assert.equal(r.sid, state.release1);
    assert.equal(r.configurationSid, state.config1);
    assert.equal(r.isActive, true);
    assert.equal(r.configuration.sid, state.config1);
    assert.equal(r.configuration.isActive, true);
    assert.equal(r.configuration.isArchived, false);
    assert.deepEqual(pluginSummary(r.configuration.plugins), [`${A}@1.0.0`, `${B}@1.0.0`]);
  });

  await step('describeRelease Active is the first release', ['release1'], async () => {
    const r = await tk.describeRelease({ sid: 'Active' });
    assert.equal(r.sid, state.release1);
    assert.equal(r.isActive, true);
    assert.equal(r.configurationSid, state.config1);
  });

  // --- second configuration from the active one ----------------------------------------------
  await step(
    'createConfiguration second: from active, add alpha@latest and charlie@0.1.0, remove bravo',
    ['config1', 'alpha2', 'charlie1'],
    async () => {
      const c = await tk.createConfiguration({
        name: 'Second configuration',
        fromConfiguration: 'active',
        addPlugins: [`${A}@latest`, `${C}@0.1.0`],
        removePlugins: [B],
      });
      assert.match(c.sid, SID_RE('FJ'));
      assert.notEqual(c.sid, state.config1);
      assert.equal(c.name, 'Second configuration');
      assert.equal(c.description, null);
      // alpha replaced in place, bravo removed, charlie appended
      assert.deepEqual(pluginSummary(c.plugins), [`${A}@2.0.0`, `${C}@0.1.0`]);
      const p = byName(c.plugins);
      assert.equal(p[A].pluginVersionSid, state.alpha2);
      assert.equal(p[A].changelog, 'second release');
      assert.equal(p[C].pluginVersionSid, state.charlie1);
      assert.equal(p[C].friendlyName, null);
      state.config2 = c.sid;
    },
  );

  await step('describeConfiguration second before release: not active', ['config2'], async () => {
    const c = await tk.describeConfiguration({ sid: state.config2 });
    assert.equal(c.sid, state.config2);
    assert.equal(c.isActive, false);
    assert.equal(c.isArchived, false);
    assert.deepEqual(pluginSummary(c.plugins), [`${A}@2.0.0`, `${C}@0.1.0`]);
  });

  await step('diff active -> second configuration', ['config1', 'config2'], async () => {
    const d = await tk.diff({ resource: 'configuration', oldIdentifier: 'active', newIdentifier: state.config2 });
    assert.equal(d.oldSid, state.config1);
    assert.equal(d.newSid, state.config2);
    assert.equal(d.activeSid, state.config1);
    const conf = Object.fromEntries(d.configuration.map((x) => [x.path, x]));
    assert.deepEqual(
      [conf.name.before, conf.name.after, conf.name.hasDiff],
      ['First configuration', 'Second configuration', true],
    );
    assert.deepEqual([conf.description.before, conf.description.after], ['alpha and bravo', null]);
    assert.deepEqual([conf.isActive.before, conf.isActive.after, conf.isActive.hasDiff], [true, false, true]);
    assert.deepEqual(Object.keys(d.plugins).sort(), [A, B, C].sort());
    const field = (name, key) => d.plugins[name].find((x) => x.path === key);
    assert.deepEqual([field(A, 'version').before, field(A, 'version').after], ['1.0.0', '2.0.0']);
    assert.equal(field(A, 'version').hasDiff, true);
    assert.equal(field(A, 'pluginSid').hasDiff, false);
    assert.deepEqual([field(B, 'version').before, field(B, 'version').after], ['1.0.0', undefined]);
    assert.deepEqual([field(C, 'version').before, field(C, 'version').after], [undefined, '0.1.0']);
    state.diff = {
      oldSid: d.oldSid,
      newSid: d.newSid,
      versions: Object.fromEntries(
        [A, B, C].map((n) => [n, [field(n, 'version').before ?? null, field(n, 'version').after ?? null]]),
      ),
    };
  });

  await step('diff between the two sids in the other direction', ['config1', 'config2'], async () => {
    const d = await tk.diff({ resource: 'configuration', oldIdentifier: state.config2, newIdentifier: state.config1 });
    const conf = Object.fromEntries(d.configuration.map((x) => [x.path, x]));
    assert.deepEqual([conf.isActive.before, conf.isActive.after], [false, true]);
    const version = d.plugins[A].find((x) => x.path === 'version');
    assert.deepEqual([version.before, version.after], ['2.0.0', '1.0.0']);
  });

  await step('release second configuration', ['config2'], async () => {
    const r = await tk.release({ configurationSid: state.config2 });
    assert.match(r.releaseSid, SID_RE('FK'));
    assert.notEqual(r.releaseSid, state.release1);
    assert.equal(r.configurationSid, state.config2);
    state.release2 = r.releaseSid;
  });

  await step('describeRelease Active is now the second release', ['release2'], async () => {
    const r = await tk.describeRelease({ sid: 'Active' });
    assert.equal(r.sid, state.release2);
    assert.equal(r.configurationSid, state.config2);
    assert.equal(r.isActive, true);
    assert.equal(r.configuration.isActive, true);
    assert.deepEqual(pluginSummary(r.configuration.plugins), [`${A}@2.0.0`, `${C}@0.1.0`]);
  });

  await step('describeRelease of the first release: no longer active', ['release1', 'release2'], async () => {
    const r = await tk.describeRelease({ sid: state.release1 });
    assert.equal(r.sid, state.release1);
    assert.equal(r.isActive, false);
    assert.equal(r.configuration.sid, state.config1);
    // The toolkit computes configuration.isActive against the release being described (it passes
    // that release, not the active one), so a release's own configuration always reads as active.
    assert.equal(r.configuration.isActive, true);
    assert.deepEqual(pluginSummary(r.configuration.plugins), [`${A}@1.0.0`, `${B}@1.0.0`]);
  });

  await step('listReleases: newest first', ['release1', 'release2'], async () => {
    const result = await tk.listReleases({});
    assert.deepEqual(
      result.releases.map((r) => [r.sid, r.configurationSid]),
      [
        [state.release2, state.config2],
        [state.release1, state.config1],
      ],
    );
    result.releases.forEach((r) => assert.match(r.dateCreated, DATE_RE));
  });

  // --- descriptions and lists with isActive -------------------------------------------------
  await step('describePlugin alpha: active, versions newest first', ['alpha1', 'alpha2', 'release2'], async () => {
    const p = await tk.describePlugin({ name: A });
    assert.equal(p.sid, state.alpha);
    assert.equal(p.name, A);
    assert.equal(p.friendlyName, 'Alpha Two');
    assert.equal(p.description, 'The first plugin');
    assert.equal(p.isActive, true);
    assert.equal(p.isArchived, false);
    assert.match(p.dateCreated, DATE_RE);
    assert.match(p.dateUpdated, DATE_RE);
    assert.deepEqual(
      p.versions.map((v) => [v.sid, v.version, v.isActive, v.isArchived, v.isPrivate]),
      [
        [state.alpha2, '2.0.0', true, false, false],
        [state.alpha1, '1.0.0', false, false, false],
      ],
    );
    assert.equal(p.versions[0].url, url(A, '2.0.0'));
    assert.equal(p.versions[0].changelog, 'second release');
    assert.equal(typeof p.versions[0].isValidated, 'boolean');
  });

  await step('describePlugin bravo: not active any more', ['bravo1', 'release2'], async () => {
    const p = await tk.describePlugin({ name: B });
    assert.equal(p.sid, state.bravo);
    assert.equal(p.isActive, false);
    assert.deepEqual(p.versions.map((v) => [v.version, v.isActive, v.isPrivate]), [['1.0.0', false, true]]);
  });

  await step('describePluginVersion alpha 1.0.0 (inactive) and 2.0.0 (active)', ['alpha2', 'release2'], async () => {
    const old = await tk.describePluginVersion({ name: A, version: '1.0.0' });
    assert.equal(old.sid, state.alpha1);
    assert.equal(old.version, '1.0.0');
    assert.equal(old.url, url(A, '1.0.0'));
    assert.equal(old.changelog, 'first release');
    assert.equal(old.isActive, false);
    assert.equal(old.isArchived, false);
    assert.equal(old.isPrivate, false);
    assert.equal(old.plugin.sid, state.alpha);
    assert.equal(old.plugin.name, A);
    assert.equal(old.plugin.friendlyName, 'Alpha Two');
    assert.equal(old.plugin.isArchived, false);
    const cur = await tk.describePluginVersion({ name: A, version: '2.0.0' });
    assert.equal(cur.sid, state.alpha2);
    assert.equal(cur.isActive, true);
  });

  await step('listPlugins: newest first with isActive', ['alpha', 'bravo', 'charlie', 'release2'], async () => {
    const result = await tk.listPlugins({});
    assert.deepEqual(
      result.plugins.map((p) => [p.sid, p.name, p.isActive]),
      [
        [state.charlie, C, true],
        [state.bravo, B, false],
        [state.alpha, A, true],
      ],
    );
    assert.equal(result.meta.key, 'plugins');
  });

  await step('listPlugins pages with pageSize and the next page token', ['alpha', 'bravo', 'charlie'], async () => {
    const first = await tk.listPlugins({ page: { pageSize: 2 } });
    assert.deepEqual(first.plugins.map((p) => p.name), [C, B]);
    assert.equal(first.meta.page_size, 2);
    assert.ok(first.meta.next_page_url, 'a next_page_url on the first of two pages');
    assert.ok(first.meta.next_token, 'the toolkit finds a PageToken in next_page_url');
    const second = await tk.listPlugins({ page: { pageSize: 2, pageToken: first.meta.next_token } });
    assert.deepEqual(second.plugins.map((p) => p.name), [A]);
    assert.equal(second.meta.next_page_url, null);
    state.pagination = { firstPage: first.meta, secondPage: second.meta };
  });

  await step('listPluginVersions charlie: newest first with isActive', ['charlie1', 'charlie2', 'release2'], async () => {
    const result = await tk.listPluginVersions({ name: C });
    assert.deepEqual(
      result.plugin_versions.map((v) => [v.sid, v.version, v.isActive, v.pluginSid]),
      [
        [state.charlie2, '0.2.0', false, state.charlie],
        [state.charlie1, '0.1.0', true, state.charlie],
      ],
    );
    assert.equal(result.meta.key, 'plugin_versions');
  });

  await step('listConfigurations: newest first with isActive', ['config1', 'config2', 'release2'], async () => {
    const result = await tk.listConfigurations({});
    assert.deepEqual(
      result.configurations.map((c) => [c.sid, c.name, c.isActive]),
      [
        [state.config2, 'Second configuration', true],
        [state.config1, 'First configuration', false],
      ],
    );
    assert.equal(result.meta.key, 'configurations');
  });

  // --- archives --------------------------------------------------------------------------------
  await step('archivePluginVersion alpha 1.0.0', ['alpha1', 'release2'], async () => {
    const v = await tk.archivePluginVersion({ name: A, version: '1.0.0' });
    assert.equal(v.sid, state.alpha1);
    assert.equal(v.version, '1.0.0');
    assert.equal(v.isArchived, true);
    assert.equal(v.url, url(A, '1.0.0'));
    // The vendor's archive response has no `validated` (see its OpenAPI), so isValidated is unset.
    const again = await tk.describePluginVersion({ name: A, version: '1.0.0' });
    assert.equal(again.isArchived, true);
    assert.equal(again.isActive, false);
    state.archivedVersion = v.sid;
  });

  await step('archivePlugin bravo', ['bravo', 'release2'], async () => {
    const p = await tk.archivePlugin({ name: B });
    assert.equal(p.sid, state.bravo);
    assert.equal(p.name, B);
    assert.equal(p.isArchived, true);
    const again = await tk.describePlugin({ name: B });
    assert.equal(again.isArchived, true);
    assert.equal(again.isActive, false);
    state.archivedPlugin = p.sid;
  });

  await step('archiveConfiguration first', ['config1', 'release2'], async () => {
    const c = await tk.archiveConfiguration({ sid: state.config1 });
    assert.equal(c.sid, state.config1);
    assert.equal(c.name, 'First configuration');
    assert.equal(c.isArchived, true);
    const again = await tk.describeConfiguration({ sid: state.config1 });
    assert.equal(again.isArchived, true);
    assert.equal(again.isActive, false);
    // alpha@1.0.0 is now archived and bravo is archived: both show as archived in it
    assert.deepEqual(again.plugins.map((p) => [p.name, p.isArchived]), [
      [A, true],
      [B, true],
    ]);
    state.archivedConfiguration = c.sid;
  });

  await step('archiving what the active release uses is refused with a TwilioApiError', ['release2'], async () => {
    const err = await expectApiError(() => tk.archivePlugin({ name: A }), 'archivePlugin of an active plugin');
    assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}`);
    const p = await tk.describePlugin({ name: A });
    assert.equal(p.isArchived, false);
  });

  // --- missing resources ----------------------------------------------------------------------
  await step('describePlugin of a missing plugin is TwilioApiError 404 / 20404', [], async () => {
    const err = await expectApiError(() => tk.describePlugin({ name: 'compat-no-such-plugin' }), 'describePlugin');
    assert.equal(err.status, 404);
    assert.equal(err.code, 20404);
    assert.match(err.moreInfo, /^https:\/\/www\.twilio\.com\/docs\/errors\/20404$/);
    assert.ok(err.message);
    state.missingPlugin = { status: err.status, code: err.code, moreInfo: err.moreInfo };
  });

  await step('describePluginVersion of a missing version is TwilioApiError 404 / 20404', ['alpha'], async () => {
    const err = await expectApiError(
      () => tk.describePluginVersion({ name: A, version: '9.9.9' }),
      'describePluginVersion',
    );
    assert.equal(err.status, 404);
    assert.equal(err.code, 20404);
  });

  await step('createConfiguration naming a missing plugin is TwilioApiError 404 / 20404', [], async () => {
    const err = await expectApiError(
      () => tk.createConfiguration({ name: 'broken', addPlugins: ['compat-no-such-plugin@1.0.0'] }),
      'createConfiguration',
    );
    assert.equal(err.status, 404);
    assert.equal(err.code, 20404);
  });

  summary.ok = summary.failures.length === 0;
  summary.accountSid = SID;
  summary.plugins = { [A]: state.alpha, [B]: state.bravo, [C]: state.charlie };
  summary.versions = {
    [`${A}@1.0.0`]: state.alpha1,
    [`${A}@2.0.0`]: state.alpha2,
    [`${B}@1.0.0`]: state.bravo1,
    [`${C}@0.1.0`]: state.charlie1,
    [`${C}@0.2.0`]: state.charlie2,
  };
  summary.configurations = { first: state.config1, second: state.config2 };
  summary.releases = [state.release2, state.release1]; // newest first
  summary.active = { release: state.release2, configuration: state.config2 };
  summary.activePlugins = [`${A}@2.0.0`, `${C}@0.1.0`];
  summary.archived = {
    pluginVersion: state.archivedVersion,
    plugin: state.archivedPlugin,
    configuration: state.archivedConfiguration,
  };
  summary.diff = state.diff;
  summary.pagination = state.pagination;
  summary.missingPlugin = state.missingPlugin;
  summary.requestCount = requests.length;
}

main()
  .catch((err) => {
    summary.ok = false;
    summary.failures.push({ step: '(driver)', error: describeError(err) });
  })
  .finally(() => {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (!summary.ok) {
      process.stderr.write(`${summary.failures.length} failure(s); see above\n`);
    }
    process.exitCode = summary.ok ? 0 : 1;
  });
