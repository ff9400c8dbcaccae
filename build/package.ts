// npm run package: the .deb and the .rpm of the compiled program (npm run build, read from
// OCF_OPENSTACK_DIST or dist/), built by the distributions' own tools (dpkg-buildpackage with
// debhelper, rpmbuild) from the sources in packaging/. Packages go to DIST/packages/.
//
//   node build/package.ts [--out DIR] [--formats deb,rpm]
//
// Version and release: package.json's version, which must be the newest entry of
// packaging/changelog (whose release part is the package release). The build is reproducible:
// SOURCE_DATE_EPOCH (default: the newest changelog date) fixes every time stamp.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { agentNames } from '../agents/index.ts';
import { writeManPages } from './manpages.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagingDir = join(root, 'packaging');
const PROGRAM_PATH = 'usr/libexec/ocf-openstack/ocf-openstack';
const AGENT_DIR = 'usr/lib/ocf/resource.d/openstack';
/** One logrotate rule for both packages (/etc/logrotate.d/ocf-openstack). */
const LOGROTATE = 'ocf-openstack.logrotate';
// xz is what every dpkg and rpm reads; level 6 (their default) costs about a minute more than 2
// for 110 MB and saves only about 10 % on this kind of file.
const DEB_COMPRESSION = ['-Zxz', '-z2'];
const RPM_PAYLOAD = 'w2.xzdio';

export interface ChangelogEntry {
  readonly version: string;
  readonly release: string;
  readonly date: Date;
  /** "Name <email>" */
  readonly person: string;
  readonly items: readonly string[];
}

/** packaging/changelog: header lines "VERSION-RELEASE DATE NAME <EMAIL>", then "- " items. */
export function parseChangelog(text: string): ChangelogEntry[] {
  const entries: Array<ChangelogEntry & { items: string[] }> = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const where = `packaging/changelog line ${index + 1}`;
    const header = /^(\S+)-([^-\s]+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (.+ <[^>]+>)$/.exec(line);
    const current = entries.at(-1);
    if (header) {
      entries.push({ version: header[1]!, release: header[2]!, date: new Date(header[3]!), person: header[4]!, items: [] });
    } else if (line.startsWith('- ') && current) {
      current.items.push(line.slice(2).trim());
    } else if (line.startsWith('  ') && current && current.items.length > 0) {
      current.items[current.items.length - 1] += ` ${line.trim()}`;
    } else {
      throw new Error(`${where}: expected "VERSION-RELEASE DATE NAME <EMAIL>", "- item" or an indented continuation`);
    }
  }
  if (entries.length === 0) throw new Error('packaging/changelog has no entry');
  return entries;
}

/** Words wrapped to width, the first line after firstPrefix, the others after restPrefix. */
function wrap(text: string, width: number, firstPrefix: string, restPrefix: string): string[] {
  const lines: string[] = [];
  let line = firstPrefix;
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > width && line.trim() !== firstPrefix.trim() && line !== restPrefix) {
      lines.push(line);
      line = restPrefix;
    }
    line += line === firstPrefix || line === restPrefix ? word : ` ${word}`;
  }
  lines.push(line);
  return lines;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function debianChangelog(entries: readonly ChangelogEntry[]): string {
  return entries.map((entry) => {
    const d = entry.date;
    const date = `${DAYS[d.getUTCDay()]}, ${String(d.getUTCDate()).padStart(2, '0')} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${d.toISOString().slice(11, 19)} +0000`;
    return [
      `ocf-openstack (${entry.version}-${entry.release}) unstable; urgency=medium`,
      '',
      ...entry.items.flatMap((item) => wrap(item, 80, '  * ', '    ')),
      '',
      ` -- ${entry.person}  ${date}`,
      '',
    ].join('\n');
  }).join('\n');
}

export function rpmChangelog(entries: readonly ChangelogEntry[]): string {
  return entries.map((entry) => {
    const d = entry.date;
    const date = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()}`;
    return [
      `* ${date} ${entry.person} - ${entry.version}-${entry.release}`,
      ...entry.items.flatMap((item) => wrap(item, 80, '- ', '  ')),
      '',
    ].join('\n');
  }).join('\n');
}

function run(file: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(file, args, { ...options, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error) throw new Error(`${file}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (exit ${result.status}):\n${output}`);
  return output;
}

interface Build {
  readonly version: string;
  readonly release: string;
  readonly entries: readonly ChangelogEntry[];
  readonly binary: string;
  readonly manDir: string;
  readonly work: string;
  readonly env: NodeJS.ProcessEnv;
}

/** rename, or copy and unlink where the destination is another file system (EXDEV: /tmp is a
 * tmpfs on Debian 13, the work directory is under dist/). */
function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    copyFileSync(from, to);
    unlinkSync(from);
  }
}

function buildDeb(build: Build, out: string): string {
  const source = join(build.work, 'deb', `ocf-openstack-${build.version}`);
  cpSync(join(packagingDir, 'debian'), join(source, 'debian'), { recursive: true });
  writeFileSync(join(source, 'debian', 'changelog'), debianChangelog(build.entries));
  const links = [`${PROGRAM_PATH} usr/bin/ocf-openstack`, ...agentNames.map((agent) => `${PROGRAM_PATH} ${AGENT_DIR}/${agent}`)];
  writeFileSync(join(source, 'debian', 'ocf-openstack.links'), `${links.join('\n')}\n`);
  copyFileSync(join(packagingDir, LOGROTATE), join(source, 'debian', LOGROTATE)); // dh_installlogrotate
  copyFileSync(build.binary, join(source, 'ocf-openstack'));
  cpSync(build.manDir, join(source, 'man'), { recursive: true });
  run('dpkg-buildpackage', ['--build=binary', '--no-sign'], {
    cwd: source,
    env: { ...build.env, OCF_OPENSTACK_DEB_COMPRESSION: DEB_COMPRESSION.join(' ') },
  });
  const name = `ocf-openstack_${build.version}-${build.release}_amd64.deb`;
  moveFile(join(build.work, 'deb', name), join(out, name));
  return join(out, name);
}

function buildRpm(build: Build, out: string): string {
  const top = join(build.work, 'rpm');
  const sources = join(top, 'SOURCES');
  mkdirSync(join(top, 'SPECS'), { recursive: true });
  mkdirSync(sources, { recursive: true });
  copyFileSync(build.binary, join(sources, 'ocf-openstack'));
  copyFileSync(join(root, 'LICENSE'), join(sources, 'LICENSE'));
  copyFileSync(join(packagingDir, LOGROTATE), join(sources, LOGROTATE));
  writeFileSync(join(sources, 'agents'), `${agentNames.join('\n')}\n`);
  cpSync(build.manDir, join(sources, 'man'), { recursive: true });
  const spec = readFileSync(join(packagingDir, 'rpm', 'ocf-openstack.spec'), 'utf8')
    .replaceAll('@VERSION@', build.version)
    .replaceAll('@RELEASE@', build.release)
    .replaceAll('@PAYLOAD@', RPM_PAYLOAD);
  const specPath = join(top, 'SPECS', 'ocf-openstack.spec');
  writeFileSync(specPath, `${spec}${rpmChangelog(build.entries)}`);
  run('rpmbuild', ['-bb', '--target', 'x86_64', '--define', `_topdir ${top}`, specPath], { env: build.env });
  const name = `ocf-openstack-${build.version}-${build.release}.x86_64.rpm`;
  moveFile(join(top, 'RPMS', 'x86_64', name), join(out, name));
  return join(out, name);
}

export interface PackageOptions {
  readonly dist: string;
  readonly out: string;
  readonly formats: readonly ('deb' | 'rpm')[];
  readonly env?: NodeJS.ProcessEnv;
}

/** Build the packages; their paths. */
export async function buildPackages(options: PackageOptions): Promise<string[]> {
  const env = options.env ?? process.env;
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const entries = parseChangelog(readFileSync(join(packagingDir, 'changelog'), 'utf8'));
  const newest = entries[0]!;
  if (newest.version !== version) {
    throw new Error(`package.json says version ${version}, the newest entry of packaging/changelog ${newest.version}: add an entry`);
  }
  const binary = join(options.dist, 'ocf-openstack');
  if (!existsSync(binary)) throw new Error(`${binary} does not exist: run npm run build first`);
  // A binary compiled before an agent was registered would ship links to an agent it lacks.
  const compiledAgents = run(binary, ['list']).trim().split('\n');
  if (compiledAgents.join(',') !== agentNames.join(',')) {
    throw new Error(`${binary} has the agents ${compiledAgents.join(', ')}, agents/index.ts ${agentNames.join(', ')}: run npm run build again`);
  }
  const sourceDateEpoch = env.SOURCE_DATE_EPOCH ?? String(Math.floor(newest.date.getTime() / 1000));
  const buildEnv: NodeJS.ProcessEnv = { ...env, SOURCE_DATE_EPOCH: sourceDateEpoch, LC_ALL: 'C.UTF-8', TZ: 'UTC' };

  mkdirSync(options.out, { recursive: true });
  const work = mkdtempSync(join(options.dist, 'packaging-work-'));
  try {
    const manDir = join(work, 'man');
    await writeManPages(manDir, { version, date: new Date(Number(sourceDateEpoch) * 1000) });
    const build: Build = { version, release: newest.release, entries, binary, manDir, work, env: buildEnv };
    const built: string[] = [];
    if (options.formats.includes('deb')) built.push(buildDeb(build, options.out));
    if (options.formats.includes('rpm')) built.push(buildRpm(build, options.out));
    return built;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function argument(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const dist = process.env.OCF_OPENSTACK_DIST ?? join(root, 'dist');
  const formats = (argument(args, '--formats') ?? 'deb,rpm').split(',');
  if (!formats.every((format) => format === 'deb' || format === 'rpm')) {
    process.stderr.write('usage: node build/package.ts [--out DIR] [--formats deb,rpm]\n');
    process.exit(2);
  }
  try {
    const built = await buildPackages({ dist, out: resolve(argument(args, '--out') ?? join(dist, 'packages')), formats: formats as Array<'deb' | 'rpm'> });
    process.stdout.write(`${built.join('\n')}\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
