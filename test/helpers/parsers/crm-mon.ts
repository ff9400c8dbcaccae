// What Pacemaker's status tools print as XML (`crm_mon --output-as=xml`, `stonith_admin --history
// --output-as=xml`), read through the XML reader into what the tests ask of a cluster.
import { descendants, parseXml, type XmlElement } from './xml.ts';

export interface NodeState {
  readonly name: string;
  readonly online: boolean;
  readonly standby: boolean;
  readonly unclean: boolean;
}

export interface ResourceState {
  readonly id: string;
  readonly role: string;
  readonly active: boolean;
  readonly failed: boolean;
  /** The nodes crm_mon places it on. */
  readonly nodes: string[];
}

export interface ClusterStatus {
  readonly xml: string;
  /** The first node is online (the one-node cluster's question). */
  readonly online: boolean;
  readonly nodes: NodeState[];
  readonly resources: ResourceState[];
  /** Failed operations with the agent's exit reason, as crm_mon shows them. */
  readonly failures: { id: string; node: string; task: string; exitstatus: string; exitcode: number; exitreason: string }[];
  readonly quorum: boolean;
  /** A DC is elected (crmsh 5 refuses `crm configure` before: "Pacemaker is not running. No DC."). */
  readonly dc: boolean;
}

const ENTITIES: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };

/** Pacemaker 2.1 stores exit reasons escaped and crm_mon escapes them again: the second decoding. */
function decodedAgain(text: string): string {
  return text.replace(/&(quot|apos|lt|gt|amp|#\d+);/g, (_, name: string) =>
    name.startsWith('#') ? String.fromCharCode(Number(name.slice(1))) : ENTITIES[name]!);
}

/** The XML document in a tool's output (stdout and stderr together: warnings may come before or after it); undefined when there is none. */
function documentIn(output: string): XmlElement | undefined {
  const start = output.search(/<\?xml|<pacemaker-result|<crm_mon|<crmadmin/);
  const end = output.lastIndexOf('>');
  if (start < 0 || end < start) return undefined;
  try {
    return parseXml(output.slice(start, end + 1));
  } catch {
    return undefined; // a tool that failed half-way: no status
  }
}

function attribute(element: XmlElement | undefined, name: string): string {
  return decodedAgain(element?.attributes[name] ?? '');
}

/** crm_mon --output-as=xml, read; a cluster that did not answer reads as no nodes, nothing online. */
export function parseStatus(xml: string): ClusterStatus {
  const root = documentIn(xml);
  const section = (name: string) => root?.children.find((child) => child.name === name);
  const nodes = (section('nodes')?.children ?? []).filter((child) => child.name === 'node').map((node) => ({
    name: attribute(node, 'name'), online: attribute(node, 'online') === 'true', standby: attribute(node, 'standby') === 'true', unclean: attribute(node, 'unclean') === 'true',
  }));
  const resourcesSection = section('resources');
  const resources = (resourcesSection ? descendants(resourcesSection, 'resource') : []).map((resource) => ({
    id: attribute(resource, 'id'), role: attribute(resource, 'role'), active: attribute(resource, 'active') === 'true', failed: attribute(resource, 'failed') === 'true',
    nodes: resource.children.filter((child) => child.name === 'node').map((node) => attribute(node, 'name')),
  }));
  const failures = (root ? descendants(root, 'failure') : []).map((failure) => ({
    id: attribute(failure, 'op_key').replace(/_[a-z-]+_\d+$/, ''), node: attribute(failure, 'node'), task: attribute(failure, 'task'),
    exitstatus: attribute(failure, 'exitstatus'), exitcode: Number(failure.attributes.exitcode ?? -1), exitreason: attribute(failure, 'exitreason'),
  }));
  const currentDc = root ? descendants(root, 'current_dc')[0] : undefined;
  return {
    xml, online: nodes[0]?.online ?? false, nodes, resources, failures,
    quorum: attribute(currentDc, 'with_quorum') === 'true', dc: attribute(currentDc, 'present') === 'true',
  };
}

/** The DC's node name in `crmadmin --dc_lookup --output-as=xml`; undefined while none is elected. */
/** The failures crm_mon lists, one line each ("ID TASK on NODE: CODE (REASON)"), or "none". */
export function failureLines(status: ClusterStatus): string {
  return status.failures.map((f) => `${f.id} ${f.task} on ${f.node}: ${f.exitcode} (${f.exitreason})`).join('\n') || 'none';
}

export function designatedController(output: string): string | undefined {
  const root = documentIn(output);
  return (root ? descendants(root, 'dc')[0]?.attributes.node_name : undefined) || undefined;
}

/** The controller's state (S_IDLE, S_TRANSITION_ENGINE, ...) in `crmadmin --status NODE --output-as=xml`. */
export function controllerState(output: string): string | undefined {
  const root = documentIn(output);
  return root ? descendants(root, 'crmd')[0]?.attributes.state : undefined;
}

/** Successful fencings of `node` in `stonith_admin --history NODE --output-as=xml`. */
export function successfulFencings(output: string, node: string): number {
  const root = documentIn(output);
  return (root ? descendants(root, 'fence_event') : []).filter((event) => event.attributes.status === 'success' && event.attributes.target === node).length;
}
