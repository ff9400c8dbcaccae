// The .deb and the .rpm as operators receive them: built by `node build/package.ts` from the
// compiled program, checked by lintian and rpmlint, installed (the .deb into this machine's real
// /usr/lib/ocf, the .rpm into a scratch root) and driven through the installed paths.
import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentNames } from '../../agents/index.ts';
import { debianChangelog, parseChangelog, rpmChangelog } from '../../build/package.ts';
import { distDir, freePort, projectRoot, runProgram, scratchDir, type Program } from '../helpers/agent.ts';
import { isAlive, killAtEnd, requireProgram, waitFor } from '../helpers/processes.ts';

const { version } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
const INSTALLED_AGENTS = '/usr/lib/ocf/resource.d/openstack';
const PROGRAM = '/usr/libexec/ocf-openstack/ocf-openstack';
const DTD = '/usr/share/resource-agents/ra-api-1.dtd';

const scratch = mkdtempSync(join(tmpdir(), 'ocf-packaging-'));
/** Two builds of the same compiled program, made side by side: the packages under test, and the rebuild. */
const builds = { first: join(scratch, 'first'), second: join(scratch, 'second') };
let debPath = '';
let rpmPath = '';

function buildPackages(out: string): Promise<Program> {
  // niced: compressing 110 MB twice must not starve the timing-sensitive tests running beside.
  const command = [process.execPath, join(projectRoot, 'build', 'package.ts'), '--out', out];
  return runProgram('nice', ['-n', '10', ...command], { ...process.env, OCF_OPENSTACK_DIST: distDir }, 15 * 60_000);
}

test.before(async (t) => {
  t.timeout(20 * 60_000);
  for (const program of ['/usr/bin/dpkg-buildpackage', '/usr/bin/rpmbuild', '/usr/bin/lintian', '/usr/bin/rpmlint', '/usr/sbin/crm_resource', '/usr/sbin/ocf-tester', '/usr/bin/memcached', '/usr/bin/man', '/usr/bin/xmllint']) {
    requireProgram(t, program);
  }
  const [first, second] = await Promise.all([buildPackages(builds.first), buildPackages(builds.second)]);
  t.is(first.code, 0, first.output);
  t.is(second.code, 0, second.output);
  const [deb, rpm] = first.output.trim().split('\n').slice(-2);
  debPath = deb ?? '';
  rpmPath = rpm ?? '';
});

test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

function lines(text: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
}

const expectedPaths = [
  PROGRAM,
  '/usr/bin/ocf-openstack',
  ...agentNames.map((agent) => `${INSTALLED_AGENTS}/${agent}`),
  '/usr/share/man/man1/ocf-openstack.1.gz',
  ...agentNames.map((agent) => `/usr/share/man/man7/ocf_openstack_${agent}.7.gz`),
];

test('the packages are named after package.json\'s version and the changelog\'s release', (t) => {
  const entry = /^(\S+)-(\S+) /m.exec(readFileSync(join(projectRoot, 'packaging', 'changelog'), 'utf8').replace(/^#.*$/gm, ''));
  t.truthy(entry);
  t.is(entry![1], version);
  t.is(debPath, join(builds.first, `ocf-openstack_${version}-${entry![2]}_amd64.deb`));
  t.is(rpmPath, join(builds.first, `ocf-openstack-${version}-${entry![2]}.x86_64.rpm`));
});

test('packaging/changelog becomes a Debian changelog and an RPM %changelog; a malformed line is refused', (t) => {
  const entries = parseChangelog('# comment\n\n2.0.0-3 2026-03-04T05:06:07Z A B <a@b.example>\n- one\n  continued\n- two\n\n1.0.0-1 2025-01-01T00:00:00Z C <c@d.example>\n- first\n');
  t.deepEqual(entries.map((entry) => [entry.version, entry.release, entry.items]), [['2.0.0', '3', ['one continued', 'two']], ['1.0.0', '1', ['first']]]);
  t.is(debianChangelog(entries).split('\n\n')[0], 'ocf-openstack (2.0.0-3) unstable; urgency=medium');
  t.regex(debianChangelog(entries), /^ -- A B <a@b\.example> {2}Wed, 04 Mar 2026 05:06:07 \+0000$/m);
  t.regex(rpmChangelog(entries), /^\* Wed Mar 04 2026 A B <a@b\.example> - 2\.0\.0-3\n- one continued\n- two\n/);
  t.throws(() => parseChangelog('2.0.0 2026-03-04 someone\n'), { message: /line 1/ });
  t.throws(() => parseChangelog('# nothing\n'), { message: /no entry/ });
});

test('building twice gives identical .deb and .rpm bytes', (t) => {
  const names = readdirSync(builds.first).sort();
  t.deepEqual(readdirSync(builds.second).sort(), names);
  t.is(names.length, 2);
  for (const name of names) t.true(readFileSync(join(builds.first, name)).equals(readFileSync(join(builds.second, name))), `${name} differs between two builds`);
});

test('lintian reports no errors and no warnings (the overrides are justified in packaging/README.md)', async (t) => {
  t.timeout(5 * 60_000);
  const result = await runProgram('lintian', ['--pedantic', '--show-overrides', debPath]);
  t.log(result.output);
  t.true(result.code === 0 || result.code === 2, result.output); // 2: only info/pedantic tags
  t.deepEqual(lines(result.output).filter((line) => /^[EW]: /.test(line)), []);
  t.regex(result.output, /^O: ocf-openstack: unstripped-binary-or-object/m, 'the program ships unstripped (the override is used)');
});

test('rpmlint reports no errors and no warnings (the filters are justified in packaging/README.md)', async (t) => {
  const result = await runProgram('rpmlint', ['-c', join(projectRoot, 'packaging', 'rpm', 'rpmlint.toml'), rpmPath]);
  t.is(result.code, 0, result.output);
  t.regex(result.output, /1 packages and 0 specfiles checked; 0 errors, 0 warnings/);
});

test('the .deb: the program once, a link per agent, man pages, license and changelog; no Node', async (t) => {
  const contents = await runProgram('dpkg-deb', ['--contents', debPath]);
  t.is(contents.code, 0, contents.output);
  const entries = lines(contents.output).map((line) => line.split(/\s+/));
  const files = entries.filter(([mode]) => mode!.startsWith('-')).map((entry) => entry[5]!.slice(1));
  const links = new Map(entries.filter(([mode]) => mode!.startsWith('l')).map((entry) => [entry[5]!.slice(1), entry[7]!]));
  t.deepEqual(files.filter((path) => Number(entries.find((entry) => entry[5] === `.${path}`)![2]) > 10_000_000), [PROGRAM], 'one copy of the program');
  for (const agent of agentNames) t.is(links.get(`${INSTALLED_AGENTS}/${agent}`), '../../../../libexec/ocf-openstack/ocf-openstack');
  t.is(links.get('/usr/bin/ocf-openstack'), '../libexec/ocf-openstack/ocf-openstack');
  for (const path of [...expectedPaths.filter((path) => !links.has(path)), '/usr/share/doc/ocf-openstack/copyright', '/usr/share/doc/ocf-openstack/changelog.Debian.gz']) {
    t.true(files.includes(path), `${path} in the .deb`);
  }
  const field = async (name: string) => (await runProgram('dpkg-deb', ['--field', debPath, name])).output.trim();
  t.regex(await field('Depends'), /^libc6 \(>= [\d.]+\)$/, 'the program needs only the C library; logger and getent are Essential');
  t.notRegex(await field('Depends'), /node|bun/i);
  t.deepEqual((await field('Recommends')).split(/,\s*/).sort(), ['pacemaker (>= 2.1~)', 'resource-agents']);
  t.is(await field('Breaks'), 'pacemaker (<< 2.1~)', 'older Pacemaker turns parameter changes into reloads');
  t.is(await field('Conflicts'), 'openstack-resource-agents');
  t.true(files.includes('/etc/logrotate.d/ocf-openstack'), 'the logrotate rule for the daemons\' output');
  const conffiles = await runProgram('dpkg-deb', ['--info', debPath, 'conffiles']);
  t.deepEqual(lines(conffiles.output), ['/etc/logrotate.d/ocf-openstack'], 'a conffile: operators may tune it');
  t.is(await field('Replaces'), 'openstack-resource-agents');
  t.is(await field('Architecture'), 'amd64');
});

test('the .rpm: rpm -qlp lists the expected paths; weak deps on the cluster stack, obsoletes the old agents', async (t) => {
  const query = async (...args: string[]) => {
    const result = await runProgram('rpm', ['-qp', ...args, rpmPath]);
    t.is(result.code, 0, result.output);
    return lines(result.output);
  };
  const listed = await query('-l');
  for (const path of [...expectedPaths, `/usr/share/licenses/ocf-openstack-${version}/LICENSE`]) t.true(listed.includes(path), `${path} in rpm -qlp`);
  t.deepEqual(listed.filter((path) => path.startsWith(`${INSTALLED_AGENTS}/`)).sort(), agentNames.map((agent) => `${INSTALLED_AGENTS}/${agent}`).sort());
  const requires = await query('--requires');
  for (const program of ['/usr/bin/logger', '/usr/bin/getent', '/usr/bin/setpriv', 'logrotate']) t.true(requires.includes(program), program);
  t.deepEqual(requires.filter((dependency) => /node|bun/i.test(dependency)), []);
  t.deepEqual((await query('--recommends')).sort(), ['pacemaker >= 2.1', 'resource-agents']);
  t.deepEqual(await query('--conflicts'), ['pacemaker < 2.1'], 'older Pacemaker turns parameter changes into reloads');
  t.true((await query('--configfiles')).includes('/etc/logrotate.d/ocf-openstack'), 'the logrotate rule, a configuration file');
  t.deepEqual(await query('--obsoletes'), ['openstack-resource-agents']);
  t.deepEqual(await query('--queryformat', '%{ARCH} %{VERSION}\\n'), [`x86_64 ${version}`]);
});

test('the .rpm installs into a scratch root, where its agent answers meta-data', async (t) => {
  const root = scratchDir(t, 'ocf-rpm-root-');
  const install = await runProgram('rpm', ['-i', '--nodeps', '--root', root, rpmPath]);
  t.is(install.code, 0, install.output);
  const agent = join(root, INSTALLED_AGENTS, 'memcached');
  const metadata = await runProgram(agent, ['meta-data']);
  t.is(metadata.code, 0, metadata.output);
  t.regex(metadata.output, /<resource-agent name="memcached"/);
  const listed = await runProgram(join(root, 'usr/bin/ocf-openstack'), ['list']);
  t.deepEqual(lines(listed.output), agentNames);
  const owned = await runProgram('rpm', ['--root', root, '-qf', `${INSTALLED_AGENTS}/memcached`]);
  t.is(owned.output.trim(), `ocf-openstack-${version}-${rpmPath.split('-').at(-1)!.split('.')[0]}.x86_64`);
});

// Only one process at a time installs the .deb into this machine's /usr/lib/ocf.
const LOCK = '/run/lock/ocf-openstack-packaging-test';

async function lockInstallation(t: ExecutionContext): Promise<void> {
  const until = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      t.teardown(() => rmSync(LOCK, { recursive: true, force: true }));
      return;
    } catch {
      const holder = Number.parseInt(existsSync(join(LOCK, 'pid')) ? readFileSync(join(LOCK, 'pid'), 'utf8') : '', 10);
      if (Number.isInteger(holder) && !isAlive(holder)) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > until) throw new Error(`${LOCK} is held by pid ${holder}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** dpkg, retried while another dpkg or apt holds its lock. */
async function dpkg(args: readonly string[]): Promise<Program> {
  const until = Date.now() + 5 * 60_000;
  for (;;) {
    const result = await runProgram('dpkg', args, { ...process.env, DEBIAN_FRONTEND: 'noninteractive' });
    if (result.code === 0 || !/lock/i.test(result.output) || Date.now() > until) return result;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function isInstalled(): Promise<boolean> {
  const status = await runProgram('dpkg-query', ['--show', '--showformat', '${db:Status-Status}', 'ocf-openstack']);
  return status.code === 0 && status.output.trim() !== 'not-installed';
}

test.serial('dpkg -i: Pacemaker finds the agents, ocf-tester passes on the installed path, man shows the pages; dpkg --purge removes it all', async (t) => {
  t.timeout(10 * 60_000);
  await lockInstallation(t);
  // Never touch what this test did not install.
  t.false(await isInstalled(), 'ocf-openstack is installed already: this test would remove it; dpkg --purge ocf-openstack first');
  const owner = await runProgram('dpkg-query', ['--search', INSTALLED_AGENTS]);
  t.not(owner.code, 0, `${INSTALLED_AGENTS} belongs to a package already: ${owner.output}`);
  t.false(existsSync(INSTALLED_AGENTS), `${INSTALLED_AGENTS} exists already`);
  if (!t.passed) return;

  t.teardown(async () => {
    if (await isInstalled()) await dpkg(['--purge', 'ocf-openstack']);
  });
  const install = await dpkg(['-i', debPath]);
  t.is(install.code, 0, install.output);

  const listed = await runProgram('crm_resource', ['--list-agents', 'ocf:openstack']);
  t.is(listed.code, 0, listed.output);
  t.deepEqual(lines(listed.output).sort(), [...agentNames].sort());
  const metadata = await runProgram('crm_resource', ['--show-metadata', 'ocf:openstack:memcached']);
  t.is(metadata.code, 0, metadata.output);
  t.regex(metadata.output, /<resource-agent name="memcached"/);
  const validity = await runProgram('sh', ['-c', `crm_resource --show-metadata ocf:openstack:memcached | xmllint --noout --dtdvalid ${DTD} -`]);
  t.is(validity.code, 0, validity.output);
  t.deepEqual(lines((await runProgram('ocf-openstack', ['list'], { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' })).output), agentNames);

  const rscTmp = scratchDir(t, 'ocf-packaging-rsc-');
  const port = await freePort();
  const instance = 'pkg-memcached';
  const pidfile = join(rscTmp, `memcached-${instance}.pid`);
  killAtEnd(t, pidfile);
  const tester = await runProgram('/usr/sbin/ocf-tester', ['-v', '-n', instance, '-o', `port=${port}`, '-o', `logfile=${join(rscTmp, 'memcached.log')}`, `${INSTALLED_AGENTS}/memcached`], { ...process.env, HA_RSCTMP: rscTmp });
  t.is(tester.code, 0, tester.output);
  t.regex(tester.output, /passed all tests/);

  for (const page of ['ocf-openstack', ...agentNames.map((agent) => `ocf_openstack_${agent}`)]) {
    const located = await runProgram('man', ['-w', page]);
    t.regex(located.output.trim(), new RegExp(`^/usr/share/man/man[17]/${page}\\.[17]\\.gz$`), `man -w ${page}`);
    const shown = await runProgram('man', ['--warnings', '-l', located.output.trim()], { ...process.env, MANPAGER: 'cat', MANWIDTH: '100', LC_ALL: 'C.UTF-8' });
    t.is(shown.code, 0, shown.output);
    t.regex(shown.output, /NAME/, `man -l ${page}`);
    t.notRegex(shown.output, /^\S*(troff|groff|man):.*warning/m, `man -l ${page}: groff warnings`);
  }

  const purge = await dpkg(['--purge', 'ocf-openstack']);
  t.is(purge.code, 0, purge.output);
  t.false(await isInstalled());
  for (const path of [INSTALLED_AGENTS, '/etc/logrotate.d/ocf-openstack', '/usr/bin/ocf-openstack', '/usr/libexec/ocf-openstack', '/usr/share/man/man7/ocf_openstack_memcached.7.gz']) t.false(existsSync(path), `${path} after purge`);
  t.true(await waitFor(() => !existsSync(pidfile) || !isAlive(Number.parseInt(readFileSync(pidfile, 'utf8'), 10)), 1000), 'ocf-tester stopped its memcached');
});
