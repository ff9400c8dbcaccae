// The manual pages generated from the agents' declarations: complete, escaped, and rendered by man.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentNames, loadAgent } from '../../agents/index.ts';
import { defineAgent } from '../../shared/ocf/agent.ts';
import { success } from '../../shared/ocf/outcome.ts';
import { integer, string } from '../../shared/ocf/parameters.ts';
import { agentManPage, manPageName, roffText, writeManPages } from '../../build/manpages.ts';

const info = { version: '9.8.7', date: new Date('2026-01-02T03:04:05Z') };

/** man's rendering of a page file as plain text, and groff's warnings. */
function render(path: string): { code: number | null; text: string; warnings: string } {
  const result = spawnSync('man', ['--warnings', '-l', path], {
    encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '', LC_ALL: 'C.UTF-8', MANPAGER: 'cat', PAGER: 'cat' },
  });
  return { code: result.status, text: result.stdout.replace(/.\x08/g, ''), warnings: result.stderr };
}

test('man -l renders every generated page without warnings, each parameter and action in it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocf-manpages-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = await writeManPages(dir, info);
  t.deepEqual(files.sort(), ['ocf-openstack.1', ...agentNames.map((name) => `${manPageName(name)}.7`)].sort());
  t.true(agentNames.includes('memcached'));
  for (const name of agentNames) {
    const agent = await loadAgent(name);
    const page = render(join(dir, `${manPageName(name)}.7`));
    t.is(page.code, 0, page.warnings);
    t.is(page.warnings, '', `${name}: groff warnings`);
    t.regex(page.text, new RegExp(`^OCF_OPENSTACK_${name.toUpperCase()}\\(7\\)`, 'm'));
    t.true(page.text.includes(`${manPageName(name)} - ${agent.shortdesc}`), `${name}: NAME line`);
    t.true(page.text.includes(`ocf:openstack:${name}`));
    for (const parameter of Object.keys(agent.parameters)) t.regex(page.text, new RegExp(`^ {7}${parameter} \\(`, 'm'), `${name}: parameter ${parameter}`);
    for (const action of [...Object.keys(agent.actions), 'meta-data']) t.regex(page.text, new RegExp(`^ {7}${action}\\b`, 'm'), `${name}: action ${action}`);
    t.true(page.text.includes('9.8.7') && page.text.includes('2026-01-02'), `${name}: version and date in the footer`);
  }
  const command = render(join(dir, 'ocf-openstack.1'));
  t.is(command.code, 0, command.warnings);
  t.is(command.warnings, '');
  for (const name of agentNames) t.true(command.text.includes(`${manPageName(name)}(7)`), `ocf-openstack(1) refers to ${name}`);
});

test('the memcached page shows defaults, computed defaults and allowed values as declared', async (t) => {
  const page = agentManPage(await loadAgent('memcached'), info);
  t.regex(page, /\\fBport\\fR \(optional, unique, integer, default "11211"\)/);
  t.regex(page, /\\fBuser\\fR \(optional, string, default computed at run time\)/);
  t.regex(page, /Allowed values: protocol, process\./);
  t.regex(page, /op monitor interval="10s" timeout="\d+s" \\e\n/);
  t.regex(page, /op monitor interval="60s" timeout="\d+s" OCF_CHECK_LEVEL="10"\n/);
  t.regex(page, /pcs resource create .* op monitor interval=10s timeout=\d+s op monitor interval=60s timeout=\d+s OCF_CHECK_LEVEL=10/);
});

test('declared text cannot inject roff requests or escapes', (t) => {
  const hostile = defineAgent({
    name: 'hostile',
    shortdesc: '.so /etc/passwd',
    longdesc: "'br\n\n.TH OWNED 1\n\nback\\slash \\fBbold\\fR and a-hyphen",
    parameters: {
      password: string({ shortdesc: '.ig', longdesc: '.de X\nmore', required: true, secret: true }),
      count: integer({ shortdesc: 'a count', longdesc: 'line one\n.sp 10', default: 3 }),
    },
    actions: {
      start: { timeout: 20, run: async () => success },
      stop: { timeout: 20, run: async () => success },
      monitor: {
        depths: [{ name: 'process', level: 0, interval: 10, timeout: 20, checks: '.so /etc/passwd' }],
        defaultDepth: () => 'process',
        run: async () => success,
      },
      'validate-all': { timeout: 20, run: async () => success },
    },
  });
  const page = agentManPage(hostile, info);
  const requests = page.split('\n').filter((line) => /^[.']/.test(line)).map((line) => line.split(/\s/)[0]);
  t.deepEqual([...new Set(requests)].sort(), ['.IP', '.PP', '.RE', '.RS', '.SH', '.TH', '.TP', '.ad', '.fi', '.nf', '.nh'].sort());
  t.true(page.includes('\\&.so /etc/passwd'));
  t.true(page.includes("\\&'br"));
  t.true(page.includes('back\\eslash \\efBbold\\efR and a\\-hyphen'));
  t.regex(page, /params password="string"/, 'a required parameter appears in the example');
  t.is(roffText('a-b\\c'), 'a\\-b\\ec');

  const dir = mkdtempSync(join(tmpdir(), 'ocf-manpages-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ocf_openstack_hostile.7');
  writeFileSync(path, page);
  const rendered = render(path);
  t.is(rendered.code, 0, rendered.warnings);
  t.true(rendered.text.includes('.TH OWNED 1'));
  t.true(rendered.text.includes('back\\slash \\fBbold\\fR and a-hyphen'));
});
