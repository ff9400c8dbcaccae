// ocf:openstack:keystone: the OpenStack Identity API, a WSGI application served by uwsgi.
// The parameters of the old shell agent (openstack-resource-agents ocf/keystone) keep working:
// operators' `crm configure primitive p_keystone ocf:openstack:keystone params config=...
// os_password=... os_username=admin os_tenant_name=admin os_auth_url=http://VIP:5000/v2.0/`.
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { checkFailed, checkPassed, forgetFailure, peersSay } from '../shared/cluster/evidence.ts';
import { defineAgent, type ActionContext, type CheckDeclaration } from '../shared/ocf/agent.ts';
import { isAddressOrHostname } from '../shared/net/address.ts';
import { requireBinary, requireFile } from '../shared/process/binary.ts';
import { daemonFrozenProblem, daemonStatus, logfileParameter, notRunningOutcome, reloadInPlace, startDaemon, stopDaemon, type Daemon } from '../shared/process/daemon.ts';
import { sleep } from '../shared/ocf/deadline.ts';
import type { OcfEnvironment } from '../shared/ocf/environment.ts';
import { splitArguments } from '../shared/ocf/exec.ts';
import { OCF } from '../shared/ocf/exit-codes.ts';
import { getJson, jsonBody, postJson } from '../shared/net/http.ts';
import { connectAddress, isListening } from '../shared/net/socket.ts';
import { fail, failure, quoted, success } from '../shared/ocf/outcome.ts';
import { choice, integer, rawValue, string } from '../shared/ocf/parameters.ts';
import { isAlive } from '../shared/process/proc.ts';
import { writeState } from '../shared/process/state-file.ts';
import { logSince, logSize } from '../shared/process/supervise.ts';
import { readOsloConfig } from '../shared/config/oslo-ini.ts';
import { configCredentials } from '../shared/ocf/credentials.ts';
import { canReach, lookupGroupId, lookupUser, type Account } from '../shared/process/users.ts';
import { vipProblem } from '../shared/net/vip.ts';

/** token when credentials are given, api when only a URL is, else process (see monitor_check). */
function defaultMonitorCheck(env: OcfEnvironment): 'process' | 'api' | 'token' {
  const hasPassword = rawValue(env, 'os_password') !== undefined || rawValue(env, 'os_password_file') !== undefined;
  if (rawValue(env, 'os_username') !== undefined && hasPassword) return 'token';
  return rawValue(env, 'os_auth_url') !== undefined ? 'api' : 'process';
}

/** The Debian and Ubuntu packages' WSGI script, dropped by newer Keystone packages. */
const KEYSTONE_WSGI_SCRIPT = '/usr/bin/keystone-wsgi-public';
/** Keystone's WSGI entry point as a module (2025.1 and later). */
const KEYSTONE_WSGI_MODULE = 'keystone.wsgi.api:application';

const parameters = {
  binary: string({
    shortdesc: 'Program that serves Keystone',
    longdesc: 'The launcher, by name (searched in PATH) or full path. uwsgi (the default) is given everything it needs by this agent: the listen socket, the WSGI script, the process and thread counts, or the distribution\'s uwsgi ini file (uwsgi_ini). Any other program (a different WSGI server) is run as the user with additional_parameters as its only arguments and OS_KEYSTONE_CONFIG_FILES set to config; it must serve plain HTTP on listen:port in the foreground. The old agent\'s default, keystone-all, no longer exists.',
    default: 'uwsgi',
  }),
  client_binary: string({
    shortdesc: 'Ignored (deprecated)',
    longdesc: 'Accepted for compatibility with the old shell agent and ignored: this agent speaks HTTP to Keystone itself, no client program is run.',
  }),
  config: string({
    shortdesc: 'keystone.conf',
    longdesc: 'The Keystone configuration file, given to Keystone as OS_KEYSTONE_CONFIG_FILES.',
    default: '/etc/keystone/keystone.conf',
  }),
  user: string({
    shortdesc: 'User Keystone runs as',
    longdesc: 'The user uwsgi and Keystone run as (the agent starts them as this user; uwsgi never runs as root).',
    default: 'keystone',
  }),
  group: string({
    shortdesc: 'Group Keystone runs as',
    longdesc: 'The group uwsgi and Keystone run as.',
    default: 'keystone',
  }),
  listen: string({
    shortdesc: 'Address to listen on',
    longdesc: 'The address uwsgi serves Keystone on (--http-socket LISTEN:PORT). 0.0.0.0 listens everywhere. When HAProxy on the same node binds the VIP with the same port, use this node\'s own address. A specific address must be assigned here (or net.ipv4.ip_nonlocal_bind be 1). Health checks are made to this address.',
    default: '0.0.0.0',
  }),
  port: integer({
    shortdesc: 'TCP port',
    longdesc: 'The TCP port Keystone is served on.',
    default: 5000, min: 1, max: 65535,
  }),
  uwsgi_ini: string({
    shortdesc: 'uwsgi ini file',
    longdesc: 'A uwsgi ini file to use instead of the agent\'s own uwsgi options, such as the distribution\'s /etc/keystone/keystone-uwsgi.ini. The agent still adds --http-socket LISTEN:PORT and runs uwsgi in the foreground as user; the file must not daemonize uwsgi. Whether uwsgi logs every request is the file\'s choice (disable-logging); without uwsgi_ini the agent disables request logging. Only with the uwsgi binary.',
  }),
  wsgi_script: string({
    shortdesc: 'Keystone WSGI script',
    longdesc: `The WSGI script uwsgi serves (--wsgi-file), when uwsgi_ini and wsgi_module are not set. When it is not set either and ${KEYSTONE_WSGI_SCRIPT} does not exist (newer Keystone packages drop it), uwsgi serves the module ${KEYSTONE_WSGI_MODULE} (--module), Keystone's own entry point since 2025.1.`,
    default: KEYSTONE_WSGI_SCRIPT,
  }),
  wsgi_module: string({
    shortdesc: 'Keystone WSGI module',
    longdesc: `The Python module and callable uwsgi serves (--module MODULE:CALLABLE) instead of a script, when uwsgi_ini is not set: ${KEYSTONE_WSGI_MODULE} with Keystone 2025.1 and later. Set it or wsgi_script, not both.`,
  }),
  processes: integer({
    shortdesc: 'uwsgi worker processes',
    longdesc: 'The number of uwsgi worker processes, when uwsgi_ini is not set.',
    default: 4, min: 1,
  }),
  threads: integer({
    shortdesc: 'Threads per worker',
    longdesc: 'The number of threads of each uwsgi worker, when uwsgi_ini is not set. Keep 1 with a sqlite database: Keystone\'s sqlite backend loses its lock across threads (database is locked).',
    default: 1, min: 1,
  }),
  pid: string({
    shortdesc: 'Pidfile',
    longdesc: 'The pidfile this agent keeps for the uwsgi master. Default: $HA_RSCTMP/keystone-RESOURCE_ID.pid.',
    default: (env) => `${env.rscTmp}/keystone-${env.instance}.pid`,
    unique: true,
  }),
  logfile: logfileParameter('keystone'),
  additional_parameters: string({
    shortdesc: 'Additional launcher options',
    longdesc: 'More options for the launcher (binary), split into words like a shell would (quotes honoured) but never evaluated by one.',
  }),
  os_auth_url: string({
    shortdesc: 'Keystone URL',
    longdesc: 'The Identity API URL, such as http://VIP:5000/v3. Its path says where the version document and /auth/tokens are; the checks themselves go to this node\'s instance at listen:port, never through a VIP or load balancer (a clone checks itself; start does not wait for the VIP). A URL ending in /v2.0 (the API removed from Keystone) is read as its /v3 sibling.',
  }),
  os_username: string({
    shortdesc: 'User for the token check',
    longdesc: 'The Keystone user the token check authenticates as.',
  }),
  os_password: string({
    shortdesc: 'Password for the token check',
    longdesc: 'The password of os_username. It is never put on a command line or in a log; os_password_file keeps it out of the CIB as well and is preferred.',
    secret: true,
  }),
  os_password_file: string({
    shortdesc: 'File holding the password',
    longdesc: 'A file (readable by root only, ideally) whose first line is the password of os_username, read at each check. Preferred over os_password.',
  }),
  os_project_name: string({
    shortdesc: 'Project to scope the token to',
    longdesc: 'The project the token check asks a token for. Default: os_tenant_name. Without either, the token is unscoped.',
  }),
  os_tenant_name: string({
    shortdesc: 'Old name of os_project_name',
    longdesc: 'The Identity v2.0 name of os_project_name, kept for existing configurations.',
  }),
  os_user_domain_name: string({
    shortdesc: 'Domain of the user',
    longdesc: 'The domain os_username belongs to.',
    default: 'Default',
  }),
  os_project_domain_name: string({
    shortdesc: 'Domain of the project',
    longdesc: 'The domain the project belongs to.',
    default: 'Default',
  }),
  monitor_check: choice(['process', 'api', 'token'], {
    shortdesc: 'How deep monitor looks',
    longdesc: 'The depth of a monitor operation without OCF_CHECK_LEVEL (an operation with OCF_CHECK_LEVEL runs that level: 0 process, 10 api, 20 token). "process": the uwsgi master of this resource is alive. "api": also, a GET of the Identity API version document answers 200 within a bounded time. "token": also, a password authentication (POST /v3/auth/tokens) issues a token, which proves the database and the keys work. Default: token when os_username and a password are given, api when only os_auth_url is, else process.',
    default: defaultMonitorCheck,
  }),
};

type Context = ActionContext<typeof parameters>;

/** uwsgi reloads on SIGTERM unless die-on-term is set (an ini file may unset it); SIGINT always stops it. */
const UWSGI_STOP_SIGNAL = 'SIGINT';

function isUwsgi(binary: string): boolean {
  return basename(binary).startsWith('uwsgi');
}

function daemonOf({ params }: Context): Daemon {
  return {
    name: isUwsgi(params.binary) ? 'keystone (uwsgi)' : 'keystone',
    binary: params.binary,
    user: params.user,
    pidfile: params.pid,
    logFile: params.logfile,
    // uwsgi's SIGINT kills its workers at once, then the master exits: 3 s with no process gone is
    // a hung Keystone. Another server (gunicorn drains on SIGTERM) keeps the graceful wait.
    ...(isUwsgi(params.binary) ? { stopSignal: UWSGI_STOP_SIGNAL, stopPatience: { ms: 3000 } } : {}),
  };
}

/** The Identity v3 base URL path (no trailing slash): from os_auth_url, /v2.0 read as /v3. */
function identityPath(context: Context, announce = false): string {
  const { params, log } = context;
  if (params.os_auth_url === '') return '/v3';
  let path: string;
  try {
    path = new URL(params.os_auth_url).pathname.replace(/\/+$/, '');
  } catch {
    return fail(OCF.ERR_CONFIGURED, `parameter os_auth_url: ${quoted(params.os_auth_url)} is not a URL`);
  }
  if (/\/v2\.0$/.test(path)) {
    // Said by start and validate-all only: a monitor every 30 s would repeat it endlessly.
    if (announce) log.warn(`os_auth_url ${params.os_auth_url}: the Identity v2.0 API was removed from Keystone; using ${path.replace(/\/v2\.0$/, '/v3')}`);
    return path.replace(/\/v2\.0$/, '/v3');
  }
  return /\/v3$/.test(path) ? path : `${path}/v3`;
}

/** This node's instance, the one this resource runs, with the Identity API's path. */
function localUrl(context: Context, path: string): string {
  const host = connectAddress(context.params.listen);
  const authority = host.includes(':') ? `[${host}]` : host;
  return `http://${authority}:${context.params.port}${identityPath(context)}${path}`;
}

/** How long one HTTP check may take: bounded, and never past the action's deadline. */
function checkTimeout(context: Context): number {
  return Math.max(1, context.deadline.bound(10_000));
}

/**
 * The checks beyond the process. The API refusing connections is this node's (its uwsgi); the API
 * not answering in time (noAnswerOutcome), answering an error, and a token refused, can be this
 * node's (hung workers, its keys, its keystone.conf) or every node's (the database, the
 * credentials): the cluster's evidence decides.
 */
const API_ANSWERS: CheckDeclaration = { name: 'api', title: 'API check', shared: true, checks: 'the Identity API\'s version document answers 200 (an answer with another status)' };
const TOKEN: CheckDeclaration = { name: 'token', title: 'token check', shared: true, checks: 'a password authentication issues a token' };
const API_REACHABLE: CheckDeclaration = { name: 'api-reachable', title: 'API', shared: false, checks: 'this node\'s uwsgi answers HTTP at all (a refused connection; in a clone, no answer in time is the token check failing)' };

/** undefined when the version document answers 200; otherwise why not, whether it answered at all, and whether for want of time. */
async function apiStatus(context: Context): Promise<{ problem: string; answered: boolean; timedOut: boolean } | undefined> {
  const url = localUrl(context, '');
  try {
    const response = await getJson(url, checkTimeout(context));
    return response.status === 200 ? undefined : { problem: `GET ${url} answered HTTP ${response.status}`, answered: true, timedOut: false };
  } catch (error) {
    const message = (error as Error).message;
    return { problem: `no answer from ${url}: ${message}`, answered: false, timedOut: /^no answer within/.test(message) };
  }
}

/** Start and reload wait for this node's API to answer (any answer: an error is for the evidence to judge). */
async function apiProblem(context: Context): Promise<string | undefined> {
  const status = await apiStatus(context);
  return status?.answered ? undefined : status?.problem;
}

/** The password, from os_password_file (read now) or os_password; registered as a secret. */
function password(context: Context): { value: string } | { problem: string } {
  const { params, log } = context;
  if (params.os_password_file === '') return { value: params.os_password };
  let text: string;
  try {
    text = readFileSync(params.os_password_file, 'utf8');
  } catch (error) {
    return { problem: `cannot read os_password_file ${params.os_password_file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  const value = text.split(/\r?\n/)[0] ?? '';
  log.addSecret(value);
  return { value };
}

function errorMessage(body: unknown): string | undefined {
  const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  return typeof message === 'string' ? message.slice(0, 200) : undefined;
}

/** Whether a token can be asked for: a user and a password are given. */
function hasCredentials({ params }: Pick<Context, 'params'>): boolean {
  return params.os_username !== '' && (params.os_password !== '' || params.os_password_file !== '');
}

/**
 * undefined when Keystone issues a token for the configured user; otherwise why not (never the
 * password). Asked once the API answers, a failure here lies in what every node shares (the
 * database, the credentials, the fernet keys), and the reason names it first: Pacemaker keeps
 * about 128 characters.
 */
async function tokenProblem(context: Context): Promise<string | undefined> {
  const { params } = context;
  const path = `${identityPath(context)}/auth/tokens`;
  const url = localUrl(context, '/auth/tokens');
  const secret = password(context);
  if ('problem' in secret) return `token check: ${secret.problem}`;
  const project = params.os_project_name || params.os_tenant_name;
  const request = {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: params.os_username, domain: { name: params.os_user_domain_name }, password: secret.value } },
      },
      ...(project ? { scope: { project: { name: project, domain: { name: params.os_project_domain_name } } } } : {}),
    },
  };
  let response;
  try {
    response = await postJson(url, request, checkTimeout(context));
  } catch (error) {
    return `token check: no answer from ${path} (Keystone's database?): ${(error as Error).message}`;
  }
  if (response.status === 201 && response.headers['x-subject-token']) return undefined;
  if (response.status === 401) return `token check: the credentials of user ${params.os_username} are rejected (authentication failed)`;
  const message = errorMessage(jsonBody(response));
  const answer = `HTTP ${response.status}${response.status === 201 ? ' without a token' : ''}`;
  return `token check: ${path} answered ${answer} (Keystone's database or keys)${message ? `: ${message}` : ''}`;
}

/** Start waits for the API only; what the token check finds is said in the log (see tokenProblem). */
async function reportToken(context: Context, when: string): Promise<void> {
  const api = await apiStatus(context);
  if (api) context.log.warn(`${when}, its API answers; ${api.problem}; the peers: ${await peersSay(context, API_ANSWERS)}: monitor judges it by the cluster's evidence`);
  if (!hasCredentials(context)) return;
  const problem = await tokenProblem(context);
  if (problem) context.log.warn(`${when}, its API answers; ${problem}; the peers: ${await peersSay(context, TOKEN)}: monitor judges it by the cluster's evidence`);
  else context.log.info(`${when}; the token check passes`);
}

async function validate(context: Context) {
  const { params, env, log } = context;
  if (params.client_binary !== '') log.warn('parameter client_binary is deprecated and ignored: the agent speaks HTTP to Keystone');
  const program = requireBinary(params.binary, env);
  requireFile(params.config, env, 'config');
  const uwsgi = isUwsgi(params.binary);
  if (uwsgi && params.uwsgi_ini !== '') requireFile(params.uwsgi_ini, env, 'uwsgi_ini');
  const application = uwsgi && params.uwsgi_ini === '' ? wsgiApplication(context) : undefined;
  const user = await lookupUser(params.user);
  if (!user) fail(OCF.ERR_INSTALLED, `user ${params.user} (parameter user) does not exist on this node`);
  const gid = await lookupGroupId(params.group);
  if (gid === undefined) fail(OCF.ERR_INSTALLED, `group ${params.group} (parameter group) does not exist on this node`);
  if (!isAddressOrHostname(params.listen)) fail(OCF.ERR_CONFIGURED, `parameter listen: ${quoted(params.listen)} is not an address`);
  const vip = vipProblem(params.listen);
  if (vip) fail(OCF.ERR_GENERIC, `parameter listen: ${vip}`);
  identityPath(context, true);
  if (params.monitor_check === 'token') {
    if (params.os_username === '') fail(OCF.ERR_CONFIGURED, 'monitor_check=token needs os_username');
    if (params.os_password_file !== '') requireFile(params.os_password_file, env, 'os_password_file');
    else if (params.os_password === '') fail(OCF.ERR_CONFIGURED, 'monitor_check=token needs os_password or os_password_file');
  }
  const extra = splitArguments(params.additional_parameters);
  if ('error' in extra) fail(OCF.ERR_CONFIGURED, `parameter additional_parameters: ${extra.error}`);
  return { program, account: { ...user, gid }, extra, uwsgi, application };
}

/**
 * What uwsgi serves without uwsgi_ini: wsgi_module when set; else wsgi_script when set or when the
 * default script exists; else Keystone's module.
 */
function wsgiApplication({ params, env, log }: Context): readonly string[] {
  const script = rawValue(env, 'wsgi_script');
  const module = rawValue(env, 'wsgi_module');
  if (script !== undefined && module !== undefined) fail(OCF.ERR_CONFIGURED, 'set wsgi_script or wsgi_module, not both');
  if (module !== undefined) {
    if (!/^[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?$/.test(module)) fail(OCF.ERR_CONFIGURED, `parameter wsgi_module: ${quoted(module)} is not MODULE or MODULE:CALLABLE`);
    return ['--module', module];
  }
  if (script === undefined && !existsSync(KEYSTONE_WSGI_SCRIPT)) {
    log.info(`${KEYSTONE_WSGI_SCRIPT} does not exist: serving the module ${KEYSTONE_WSGI_MODULE}`);
    return ['--module', KEYSTONE_WSGI_MODULE];
  }
  requireFile(params.wsgi_script, env, 'wsgi_script');
  return ['--wsgi-file', params.wsgi_script];
}

/**
 * The file uwsgi watches for a chain reload (--touch-chain-reload), beside the pidfile. Written by
 * the agent as state is (a fresh file renamed over it, never through a symlink), at start and at
 * each reload; its presence says the running uwsgi was started to watch it.
 */
function chainReloadFile({ params }: Context): string {
  return `${params.pid}.chain-reload`;
}

function touchChainReload(context: Context): void {
  writeState(chainReloadFile(context), { requested: new Date().toISOString() }, 0o644);
}

/**
 * Whether start can give uwsgi the chain reload file: uwsgi's user must reach its directory, and
 * the file must be written (a planted symlink or directory in a pidfile directory others may write
 * is never followed: writeState). When it cannot, reload is SIGHUP; start goes on, saying why.
 */
function armChainReload(context: Context, account: Account): boolean {
  const file = chainReloadFile(context);
  const sighup = 'reload will be uwsgi\'s SIGHUP (no worker answers while Keystone loads), not a chain reload';
  try {
    // The pidfile's directory, made now as writePidfile would make it (a fresh /run has no HA_RSCTMP yet).
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  } catch {
    // canReach says what it means.
  }
  if (!canReach(file, account)) {
    context.log.info(`${account.name} cannot reach ${dirname(file)}: ${sighup}`);
    return false;
  }
  try {
    touchChainReload(context);
    return true;
  } catch (error) {
    context.log.warn(`${file} could not be written (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${sighup}`);
    return false;
  }
}

/** Start armed the chain reload: the file is there, a regular file of ours (root's), not something planted. */
function chainReloadArmed(context: Context): boolean {
  try {
    const stat = lstatSync(chainReloadFile(context));
    return stat.isFile() && stat.uid === process.getuid?.();
  } catch {
    return false;
  }
}

function removeChainReloadFile(context: Context): void {
  try {
    rmSync(chainReloadFile(context), { force: true });
  } catch {
    // Not a file of ours (a directory planted there): never followed, never armed.
  }
}

function socketAddress(listen: string, port: number): string {
  const bare = listen.replace(/^\[(.*)\]$/, '$1');
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}

function uwsgiArguments(context: Context, extra: readonly string[], application: readonly string[], chain: boolean): string[] {
  const { params } = context;
  // uwsgi's http-socket closes every connection after one answer but does not say so: clients that
  // keep connections alive (python-requests, the openstack client) then meet a reset on reuse.
  const socket = ['--http-socket', socketAddress(params.listen, params.port), '--add-header', 'Connection: close'];
  if (params.uwsgi_ini !== '') return ['--ini', params.uwsgi_ini, ...socket, ...extra];
  return [
    '--plugins', 'python3', ...socket, ...application,
    '--master', '--processes', String(params.processes), '--threads', String(params.threads), '--enable-threads',
    // Each worker loads Keystone itself, so that a chain reload (reload) replaces one worker at a
    // time, each ready before the next: the node keeps serving while Keystone loads (3 to 5 s).
    ...(chain ? ['--lazy-apps', '--touch-chain-reload', chainReloadFile(context)] : []),
    // Exit rather than serve errors when Keystone cannot be imported; stop rather than reload on SIGTERM.
    '--need-app', '--die-on-term',
    // Keystone tokens and service catalogs outgrow uwsgi's 4 KiB default header buffer.
    '--buffer-size', '65535',
    // No line per request (health checks included: about 1 GB a day at 50 requests/s); errors
    // and Keystone's own log stay. With uwsgi_ini, the ini file decides.
    '--disable-logging',
    ...extra,
  ];
}

/**
 * What is this node's own is recovered: the process (7), the API refusing connections (1). What
 * every node shares is reported, not recovered: a token refused (database, credentials, keys), or no
 * answer in time while the peers fail their token checks too, is OCF_DEGRADED, since restarting
 * every Keystone cannot repair it and start failures would ban them all.
 */
async function monitor(context: Context) {
  const daemon = daemonOf(context);
  const status = await daemonStatus(context, daemon);
  if (status.state !== 'running') return notRunningOutcome(daemon, status);
  // Frozen is this node's own fault whatever the peers see: no evidence asked for.
  const frozen = await daemonFrozenProblem(status.pid, context.deadline);
  if (frozen) return failure(OCF.ERR_GENERIC, `keystone (pid ${status.pid}) is running but ${frozen}`);
  if (context.depth.name === 'process') return success;
  const api = await apiStatus(context);
  if (api && !api.answered) return noAnswerOutcome(context, status.pid, api);
  forgetFailure(context, TOKEN, NO_ANSWER);
  if (api) return checkFailed(context, API_ANSWERS, `keystone (pid ${status.pid}) is running but ${api.problem}`, { pid: status.pid });
  await checkPassed(context, API_ANSWERS);
  if (context.depth.name !== 'token') return success;
  if (!hasCredentials(context)) fail(OCF.ERR_CONFIGURED, 'monitor_check=token needs os_username and os_password or os_password_file');
  const token = await tokenProblem(context);
  if (token) return checkFailed(context, TOKEN, token, { pid: status.pid });
  await checkPassed(context, TOKEN);
  return success;
}

/**
 * The API not answering in time is this node's uwsgi, unless the peers show that the nodes share
 * it: a database that does not answer holds each worker until its timeout, so no answer comes, and
 * a restart repairs nothing (measured: two nodes' Keystone restarted during a locked database, the
 * outage longer for it; docs/faults.md, database-down). A token cannot be issued here either, so
 * in a clone it is the token check failing (the peers' evidence both ways: they see this node fail
 * too): every peer that reported since failing, 190; one passing since, 1 (never 5, below); peers
 * current but not reported since, 190 until they do; no peer publishing (a primitive, peers gone,
 * attrd not answering), 1. An answer in time ends it (forgetFailure). A refused or broken
 * connection is this node's at once (1): nothing shared makes uwsgi refuse. A frozen master was
 * ruled out before.
 */
function noAnswerOutcome(context: Context, pid: number, api: { problem: string; timedOut: boolean }) {
  const problem = `keystone (pid ${pid}) is running but ${api.problem}`;
  if (!api.timedOut) return failure(OCF.ERR_GENERIC, problem);
  // No pid: a no-answer is never 5. Under a slow (not stopped) shared database the busiest node
  // times out while its peers pass; banning it would move its load to the next (migration-threshold
  // is the operator's bound on restarts here).
  return checkFailed(context, TOKEN, problem, { localWhenAlone: true, cause: NO_ANSWER });
}

/** The cause a no-answer's token failure is kept with: an answer in time ends it (forgetFailure). */
const NO_ANSWER = 'no-answer';

/** A port still held for a moment by the workers of a killed master is released soon: wait briefly. */
async function portInUse(context: Context): Promise<boolean> {
  const host = connectAddress(context.params.listen);
  const until = Date.now() + context.deadline.bound(3000);
  for (;;) {
    if (!(await isListening(host, context.params.port, context.deadline.bound(1000)))) return false;
    if (Date.now() >= until) return true;
    await sleep(200);
  }
}

async function stop(context: Context) {
  const stopped = await stopDaemon(context, daemonOf(context));
  if (stopped.code === OCF.SUCCESS) removeChainReloadFile(context);
  return stopped;
}

// uwsgi's master on a worker that exited (not one it recycled or killed: those say otherwise).
const WORKER_EXITED = /DAMN ! worker \d+ \(pid: \d+\) died :\( trying respawn/;
// uwsgi's own lines about its workers and apps, passed over to find the line that says why.
const UWSGI_OWN = /DAMN ! worker|OOPS ! failed loading app|unable to load app|Respawned uWSGI worker|worker respawning too fast|spawned uWSGI|^\*\*\*/;

/**
 * With --lazy-apps each worker loads Keystone, and uwsgi respawns one that exits while loading it
 * (Keystone's SystemExit on missing fernet keys) for ever, where --need-app alone would end the
 * master: start waited its whole timeout (88 s of 90 seen on three controllers). Two workers exited
 * ("DAMN ! worker N … died", in uwsgi's log since the launch, whose size `from` is) before the API
 * first answered is Keystone failing to load: the reason is the last line before the first of them
 * that is not uwsgi's own. undefined while the master is gone: its exit is reported as such.
 */
function workersFailingToLoad(logFile: string, from: number): (master: number) => string | undefined {
  return (master) => {
    if (!isAlive(master)) return undefined;
    const lines = (logSince(logFile, from, 65_536) ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
    const exits = lines.filter((line) => WORKER_EXITED.test(line)).length;
    if (exits < 2) return undefined;
    const why = lines.slice(0, lines.findIndex((line) => WORKER_EXITED.test(line))).reverse().find((line) => !UWSGI_OWN.test(line));
    return `${why ?? 'Keystone does not load'} (uwsgi: ${exits} workers exited loading it before it answered)`;
  };
}

/**
 * keystone.conf's credentials ([database] connection, passwords), so that the logger blanks them in
 * whatever is shown of Keystone's own log. An unreadable or malformed file registers none.
 */
function registerConfigSecrets(context: Context): void {
  try {
    const config = readOsloConfig([{ file: context.params.config }], (secret) => context.log.addSecret(secret));
    for (const secret of configCredentials(config.options())) context.log.addSecret(secret);
  } catch {
    // Keystone reports its own file's errors when it loads it.
  }
}

async function start(context: Context) {
  const { params } = context;
  const { program, account, extra, uwsgi, application } = await validate(context);
  const daemon = daemonOf(context);
  if ((await daemonStatus(context, daemon)).state === 'running') {
    const problem = await apiProblem(context);
    if (problem) return failure(OCF.ERR_GENERIC, `keystone is already running but ${problem}`);
    await reportToken(context, 'keystone is already running');
    return success;
  }
  if (await portInUse(context)) {
    return failure(OCF.ERR_GENERIC, `port ${params.port} on ${connectAddress(params.listen)} is already in use by another process, not this resource's keystone`);
  }
  // Our own uwsgi arguments watch the chain reload file, when uwsgi's user can reach it (HA_RSCTMP
  // lets anyone through); an operator's ini file decides for itself. Without it, reload sends
  // SIGHUP. The file is renewed before the launch, so that only a reload moves it.
  registerConfigSecrets(context);
  const chain = uwsgi && params.uwsgi_ini === '' && armChainReload(context, account);
  if (!chain) removeChainReloadFile(context);
  const started = await startDaemon(context, daemon, {
    program,
    args: uwsgi ? uwsgiArguments(context, extra, application ?? [], chain) : extra,
    account,
    env: { OS_KEYSTONE_CONFIG_FILES: params.config },
    // Ready when this node's API answers. Start never depends on what every node shares: a token
    // refused (database, credentials, keys) would fail every start and ban Keystone everywhere.
    ready: () => apiProblem(context),
    ...(chain ? { hopeless: workersFailingToLoad(daemon.logFile, logSize(daemon.logFile)) } : {}),
  });
  if (started.code === OCF.SUCCESS) await reportToken(context, 'keystone started');
  return started;
}

/**
 * uwsgi's chain reload when this agent's start armed it (chainReloadArmed): one worker at a time
 * is replaced, each new one loading keystone.conf and ready before the next goes, so this node
 * keeps serving. Otherwise (an ini file, a uwsgi started by an earlier
 * version of this agent) SIGHUP, uwsgi's graceful reload: the master lets its workers finish their
 * requests, re-executes itself (same pid, same listening socket) and starts new workers; none
 * answers while Keystone loads.
 */
async function reload(context: Context) {
  const { uwsgi } = await validate(context);
  const chain = uwsgi && chainReloadArmed(context);
  return reloadInPlace(context, daemonOf(context), {
    signal: 'SIGHUP',
    // Asked again after 3 s without a replaced worker (uwsgi compares the file's time in whole
    // seconds, and ignores it while a chain reload runs); SIGHUP after three.
    ...(chain ? {
      trigger: { how: 'a chain reload (one worker at a time)', run: () => touchChainReload(context) },
      resend: { afterMs: 3000, times: 2, why: 'uwsgi ignores a chain reload asked while one runs' },
    } : {}),
    precheck: () => (uwsgi ? undefined : failure(OCF.ERR_UNIMPLEMENTED, `reload is known for uwsgi only, not ${context.params.binary}: restart the resource instead`)),
    ready: () => apiProblem(context),
  });
}

export default defineAgent({
  name: 'keystone',
  shortdesc: 'OpenStack Identity (Keystone) served by uwsgi',
  longdesc: 'Runs Keystone, the OpenStack Identity API, as a WSGI application in uwsgi on listen:port, as the keystone user. Usually a clone: every controller serves Keystone behind HAProxy on a VIP. monitor checks that this resource\'s uwsgi master is alive and, by monitor_check, that the API answers and that a token can be issued (password never on a command line). Accepts the parameters of the old openstack-resource-agents keystone agent.',
  parameters,
  actions: {
    start: { timeout: 60, run: start },
    stop: { timeout: 30, run: stop },
    monitor: {
      // The level-0 operation (pcs makes it without OCF_CHECK_LEVEL) runs monitor_check's depth,
      // the token check when credentials are given: so it keeps today's interval and a timeout a
      // token fits in, and the API, the local fault that recovery repairs, is watched most often.
      depths: [
        { name: 'process', level: 0, interval: 30, timeout: 30, checks: 'the uwsgi master of this resource is alive' },
        { name: 'api', level: 10, interval: 10, timeout: 20, checks: 'this node\'s Identity API answers its version document' },
        { name: 'token', level: 20, interval: 120, timeout: 30, checks: 'a password authentication issues a token (the database, the credentials, the fernet keys)' },
      ],
      defaultDepth: ({ params }) => params.monitor_check,
      available: (depth, context) => depth.name !== 'token' || hasCredentials(context),
      checks: [API_REACHABLE, API_ANSWERS, TOKEN],
      run: monitor,
    },
    'validate-all': { timeout: 20, run: async (context) => (await validate(context), success) },
    reload: { timeout: 60, run: reload },
  },
});
