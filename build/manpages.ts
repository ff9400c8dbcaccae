// Manual pages generated from the agents' declarations at build time, like resource-agents'
// ocf_heartbeat_*(7): ocf_openstack_AGENT(7) for each agent, ocf-openstack(1) for the command.
// Run as `node build/manpages.ts DIR` to write them (uncompressed) into DIR.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { agentNames, loadAgent } from '../agents/index.ts';
import type { AnyAgent } from '../shared/ocf/agent.ts';
import { fullLongdesc, shownDefault, SUITE_VERSION } from '../shared/ocf/metadata.ts';
import type { ParameterSpec, ParameterSpecs } from '../shared/ocf/parameters.ts';

export interface PageInfo {
  readonly version: string;
  /** The date the pages carry; from SOURCE_DATE_EPOCH so that a rebuild gives the same bytes. */
  readonly date: Date;
}

export function pageInfo(env: NodeJS.ProcessEnv = process.env): PageInfo {
  const epoch = env.SOURCE_DATE_EPOCH;
  return { version: SUITE_VERSION, date: epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date() };
}

export function manPageName(agentName: string): string {
  return `ocf_openstack_${agentName}`;
}

/** Text as roff shows it: backslashes and hyphens escaped, no line taken for a request. */
export function roffText(text: string): string {
  const escaped = text.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

/** A macro argument: quoted, with inner quotes as roff's \(dq. */
function roffArgument(text: string): string {
  return `"${roffText(text).replace(/"/g, '\\(dq')}"`;
}

/** Paragraphs of declared prose (blank lines separate them), each on one line. */
function paragraphs(text: string): string[] {
  return text.split(/\n\s*\n/).map((part) => part.replace(/\s+/g, ' ').trim()).filter((part) => part !== '').map(roffText);
}

function bold(text: string): string {
  return `\\fB${roffText(text)}\\fR`;
}

function header(title: string, section: number, info: PageInfo, manual: string): string {
  const day = info.date.toISOString().slice(0, 10);
  // Left-aligned, no hyphenation: parameter names and paths must stay whole and copyable.
  return `.TH ${title.toUpperCase()} ${section} ${roffArgument(day)} ${roffArgument(`ocf-openstack ${info.version}`)} ${roffArgument(manual)}\n.ad l\n.nh`;
}

function parameterEntry(name: string, spec: ParameterSpec<unknown>): string[] {
  const fallback = shownDefault(spec);
  const facts = [
    spec.required ? 'required' : 'optional',
    spec.unique ? 'unique' : undefined,
    spec.type,
    fallback === undefined ? (typeof spec.default === 'function' ? 'default computed at run time' : 'no default') : `default "${fallback}"`,
  ].filter((fact) => fact !== undefined);
  return ['.TP', `${bold(name)} (${roffText(facts.join(', '))})`, `${roffText(spec.shortdesc)}.`, ...paragraphs(fullLongdesc(spec)).flatMap((p) => ['.IP', p])];
}

function exampleValue(spec: ParameterSpec<unknown>): string {
  return shownDefault(spec) ?? spec.choices?.[0] ?? spec.type;
}

/** The page ocf_openstack_AGENT(7): what `man ocf_openstack_memcached` shows. */
export function agentManPage(agent: AnyAgent, info: PageInfo): string {
  const monitor = agent.actions.monitor;
  // One entry per action as meta-data lists them: monitor once per depth.
  const actions: [string, string][] = [
    ...Object.entries(agent.actions).flatMap(([name, action]): [string, string][] => ('depths' in action
      ? action.depths.map((depth) => [name, `timeout ${depth.timeout}s, interval ${depth.interval}s, OCF_CHECK_LEVEL ${depth.level} (${depth.name}): ${depth.checks}`])
      : [[name, `timeout ${action.timeout}s`]])),
    ['meta-data', 'timeout 5s'],
  ];
  const parameters = Object.entries(agent.parameters as ParameterSpecs);
  const required = parameters.filter(([, spec]) => spec.required);
  const crmParams = required.map(([name, spec]) => `${name}="${exampleValue(spec)}"`);
  // The depth-0 operation carries no OCF_CHECK_LEVEL (pcs makes it so): it runs the default depth.
  const monitorOps = monitor.depths.map((depth) => `op monitor interval="${depth.interval}s" timeout="${depth.timeout}s"${depth.level ? ` OCF_CHECK_LEVEL="${depth.level}"` : ''}`);
  return [
    header(manPageName(agent.name), 7, info, 'OCF resource agents'),
    '.SH NAME',
    `${roffText(manPageName(agent.name))} \\- ${roffText(agent.shortdesc)}`,
    '.SH SYNOPSIS',
    `${required.map(([name]) => `\\fBOCF_RESKEY_${roffText(name)}\\fR=\\fIvalue\\fR `).join('')}[\\fBOCF_RESKEY_\\fIname\\fR=\\fIvalue\\fR ...] \\fB/usr/lib/ocf/resource.d/openstack/${roffText(agent.name)}\\fR [${[...new Set(actions.map(([name]) => name))].map(roffText).join(' | ')}]`,
    '.SH DESCRIPTION',
    ...paragraphs(agent.longdesc).flatMap((p, i) => (i === 0 ? [p] : ['.PP', p])),
    '.PP',
    `Pacemaker knows it as ${bold(`ocf:openstack:${agent.name}`)}; its parameters are given as OCF_RESKEY_\\fIname\\fR variables.`,
    '.SH SUPPORTED PARAMETERS',
    ...parameters.flatMap(([name, spec]) => parameterEntry(name, spec)),
    '.SH SUPPORTED ACTIONS',
    'Timeouts and intervals are the recommended minimums.',
    ...actions.flatMap(([name, facts]) => ['.TP', bold(name), roffText(facts)]),
    '.SH EXIT STATUS',
    'The OCF exit codes: 0 success, 1 generic error, 2 invalid arguments, 3 unimplemented action, 5 not installed, 6 not configured, 7 not running, 190 degraded (monitor: running, but something every node shares is failing; Pacemaker shows it and does not recover). A failure carries an ocf\\-exit\\-reason line on standard error.',
    '.SH EXAMPLE CRM SHELL',
    'The following is an example configuration for this resource using the \\fBcrm\\fR(8) shell:',
    '.PP',
    '.nf',
    '.RS 4',
    roffText(`primitive p_${agent.name} ocf:openstack:${agent.name} \\`),
    ...(crmParams.length > 0 ? [roffText(`  params ${crmParams.join(' ')} \\`)] : []),
    ...monitorOps.map((op, i) => roffText(`  ${op}${i < monitorOps.length - 1 ? ' \\' : ''}`)),
    '.RE',
    '.fi',
    '.SH EXAMPLE PCS',
    'The following is an example configuration for this resource using \\fBpcs\\fR(8):',
    '.PP',
    '.nf',
    '.RS 4',
    roffText(`pcs resource create p_${agent.name} ocf:openstack:${agent.name} ${crmParams.map((p) => `${p} `).join('')}${monitorOps.join(' ').replace(/"/g, '')}`),
    '.RE',
    '.fi',
    '.SH SEE ALSO',
    `${bold('ocf-openstack')}(1), ${bold('crm_resource')}(8), ${bold('ocf-tester')}(8), ${bold('pacemaker')}(7)`,
    '',
  ].join('\n');
}

/** The page ocf-openstack(1), for the command on PATH. */
export function commandManPage(agents: readonly AnyAgent[], info: PageInfo): string {
  return [
    header('ocf-openstack', 1, info, 'OCF resource agents'),
    '.SH NAME',
    'ocf\\-openstack \\- OCF resource agents for highly available OpenStack controllers',
    '.SH SYNOPSIS',
    '\\fBocf\\-openstack list\\fR',
    '.br',
    '\\fBocf\\-openstack meta\\-data\\fR \\fIagent\\fR',
    '.br',
    '\\fBocf\\-openstack run\\fR \\fIagent\\fR \\fIaction\\fR [\\fB\\-p\\fR \\fIname\\fR=\\fIvalue\\fR]... [\\fB\\-\\-instance\\fR \\fIname\\fR] [\\fB\\-\\-interval\\fR \\fIms\\fR] [\\fB\\-\\-timeout\\fR \\fIms\\fR] [\\fB\\-\\-clone\\-max\\fR \\fIn\\fR] [\\fB\\-\\-check\\-level\\fR \\fIlevel\\fR]',
    '.SH DESCRIPTION',
    'One program holds every agent of the suite. Pacemaker runs the agents through their links in',
    '\\fI/usr/lib/ocf/resource.d/openstack/\\fR: the program is the agent its link is named after.',
    'Invoked as \\fBocf\\-openstack\\fR, it is a command for people:',
    '.TP',
    '\\fBlist\\fR',
    'lists the agents.',
    '.TP',
    '\\fBmeta\\-data\\fR \\fIagent\\fR',
    "prints an agent's OCF meta\\-data.",
    '.TP',
    '\\fBrun\\fR \\fIagent\\fR \\fIaction\\fR',
    'runs an action with the environment Pacemaker would set (OCF_RESOURCE_INSTANCE, OCF_RESKEY_\\fIname\\fR from \\fB\\-p\\fR, the meta attributes from \\fB\\-\\-interval\\fR, \\fB\\-\\-timeout\\fR and \\fB\\-\\-clone\\-max\\fR, OCF_CHECK_LEVEL from \\fB\\-\\-check\\-level\\fR) and prints the name of the exit code. Passwords given with \\fB\\-p\\fR are visible to other users in the process list.',
    '.SH AGENTS',
    ...agents.flatMap((agent) => ['.TP', `${bold(`ocf:openstack:${agent.name}`)}`, `${roffText(agent.shortdesc)}; see ${bold(manPageName(agent.name))}(7).`]),
    '.SH FILES',
    '.TP',
    '\\fI/usr/lib/ocf/resource.d/openstack/\\fR',
    'the agents, links to the program.',
    '.SH SEE ALSO',
    [...agents.map((agent) => `${bold(manPageName(agent.name))}(7)`), `${bold('crm_resource')}(8)`].join(', '),
    '',
  ].join('\n');
}

/** Write every page (uncompressed) into dir; the files' names, section directory excluded. */
export async function writeManPages(dir: string, info: PageInfo): Promise<string[]> {
  const agents = await Promise.all(agentNames.map((name) => loadAgent(name)));
  mkdirSync(dir, { recursive: true });
  const pages: Array<[string, string]> = [
    ['ocf-openstack.1', commandManPage(agents, info)],
    ...agents.map((agent): [string, string] => [`${manPageName(agent.name)}.7`, agentManPage(agent, info)]),
  ];
  for (const [file, text] of pages) writeFileSync(join(dir, file), text);
  return pages.map(([file]) => file);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node build/manpages.ts DIR\n');
    process.exit(2);
  }
  const files = await writeManPages(dir, pageInfo());
  process.stdout.write(`${files.join('\n')}\n`);
}
