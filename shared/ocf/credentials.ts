// Credentials written into what the agents read (URLs with user:password@, password options of
// configuration files), found so that the logger blanks them out before anything is logged, and
// URLs as they may be shown.

const URL_START = /^\s*([a-z][a-z0-9+.-]*):\/\/(.*)$/is;

/** Option and query parameter names whose values are credentials (not a file's name, not a hash's). */
const SECRET_NAME = /^(?!.*_(?:file|path|dir|algorithm)$).*(?:password|passwd|secret|(?:^|_)pass$)/i;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray "%": the services would not decode it either
  }
}

function afterFirstColon(userinfo: string): string | undefined {
  const colon = userinfo.indexOf(':');
  return colon < 0 ? undefined : userinfo.slice(colon + 1);
}

/**
 * The passwords in a URL, each as written and percent-decoded: per host of the authority as
 * urllib (tooz) and oslo.messaging read it (several hosts as `u:p@h1,u:p@h2`, userinfo up to the
 * last "@", password after the first ":"); everything between the first ":" of the userinfo and
 * the URL's last "@", for a password with an unencoded "/", "?", "#" or "@" that ends those parsers'
 * authority early; and password-like query parameters.
 */
export function urlPasswords(text: string): string[] {
  const match = URL_START.exec(text);
  if (!match) return [];
  const rest = match[2]!;
  const found: string[] = [];
  const authority = rest.split(/[/?#]/, 1)[0]!;
  for (const host of authority.split(',')) {
    const at = host.lastIndexOf('@');
    if (at >= 0) found.push(afterFirstColon(host.slice(0, at)) ?? '');
  }
  const lastAt = rest.lastIndexOf('@');
  if (lastAt >= 0) found.push(afterFirstColon(rest.slice(0, lastAt)) ?? '');
  const query = /\?([^#]*)/.exec(rest)?.[1] ?? '';
  for (const pair of query.split('&')) {
    const [name = '', value = ''] = pair.split(/=(.*)/s);
    if (SECRET_NAME.test(decoded(name))) found.push(value);
  }
  return [...new Set(found.flatMap((password) => [password, decoded(password)]))].filter((password) => password !== '');
}

/**
 * A URL the URL parser refused, as it may be shown: scheme and what follows the last "@", with
 * everything before that "@" (where a password would be) left out.
 */
export function urlWithoutUserinfo(text: string): string {
  const match = URL_START.exec(text);
  if (!match) return text.includes('@') ? '(a value with "@", not shown)' : text.trim();
  const rest = match[2]!;
  const at = rest.lastIndexOf('@');
  return at < 0 ? `${match[1]}://${rest.trim()}` : `${match[1]}://****@${rest.slice(at + 1).trim()}`;
}

/** A parsed URL's query as it may be shown: password-like parameters blanked. */
export function shownQuery(options: URLSearchParams): string {
  const pairs = [...options].map(([name, value]) => `${name}=${SECRET_NAME.test(name) ? '****' : value}`);
  return pairs.length ? `?${pairs.join('&')}` : '';
}

/** Every credential in a set of configuration options: password-like options, passwords in URLs. */
export function configCredentials(options: Iterable<readonly [option: string, value: string]>): string[] {
  const found = new Set<string>();
  for (const [option, value] of options) {
    if (SECRET_NAME.test(option) && value.trim() !== '') found.add(value.trim());
    for (const password of urlPasswords(value)) found.add(password);
  }
  return [...found];
}

/**
 * A line of a daemon's own log as it may be shown (an exit reason): the userinfo of every URL in it
 * ("mysql+pymysql://keystone:PASSWORD@db/keystone") blanked, whether or not the agent knew the
 * password: a log line may quote a configuration the agent never read.
 */
export function withoutUrlUserinfo(line: string): string {
  return line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s'"]*@/gi, '$1****@');
}
