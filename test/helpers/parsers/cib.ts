// A CIB configuration as comparable lines: what a resource is, its parameters, operations and meta
// attributes, its clone, and the constraints, without the element ids each client invents for them
// (crmsh names an op `p-monitor-2s`, pcs `p-monitor-interval-2s`). Two clients that configured the
// same thing give the same lines.
import { descendants, parseXml, type XmlElement } from './xml.ts';

function nvpairs(element: XmlElement, set: string): string[] {
  return element.children.filter((child) => child.name === set).flatMap((s) => s.children)
    .map((pair) => `${pair.attributes.name}=${pair.attributes.value}`).sort();
}

/** One operation as `op RESOURCE NAME interval=... timeout=... [OCF_CHECK_LEVEL=...]`, unset options left out. */
export function operationLine(resource: string, op: Readonly<Record<string, string | undefined>>, checkLevel?: string): string {
  // A bare number is seconds to Pacemaker: crmsh writes interval="0" where pcs writes "0s".
  const seconds = (value: string) => (/^\d+$/.test(value) ? `${value}s` : value);
  const options = ['interval', 'timeout', 'role', 'on-fail', 'start-delay'].filter((key) => op[key] !== undefined)
    .map((key) => `${key}=${['interval', 'timeout'].includes(key) ? seconds(op[key]!) : op[key]}`);
  return ['op', resource, op.name, ...options, ...(checkLevel === undefined ? [] : [`OCF_CHECK_LEVEL=${checkLevel}`])].join(' ');
}

function primitiveLines(primitive: XmlElement): string[] {
  const { id, class: standard, provider, type } = primitive.attributes;
  const lines = [[`primitive ${id} ${[standard, provider, type].filter(Boolean).join(':')}`, ...nvpairs(primitive, 'instance_attributes')].join(' ')];
  const meta = nvpairs(primitive, 'meta_attributes');
  if (meta.length) lines.push(`meta ${id} ${meta.join(' ')}`);
  for (const op of descendants(primitive, 'op')) {
    const level = nvpairs(op, 'instance_attributes').find((pair) => pair.startsWith('OCF_CHECK_LEVEL='))?.split('=')[1];
    lines.push(operationLine(id!, { ...op.attributes, interval: op.attributes.interval ?? '0' }, level));
  }
  return lines;
}

/** The configuration section of `cibadmin -Q` (or the whole CIB) as sorted lines. */
export function configurationLines(cibXml: string): string[] {
  const cib = parseXml(cibXml);
  const resources = descendants(cib, 'resources')[0];
  const constraints = descendants(cib, 'constraints')[0];
  const lines: string[] = [];
  for (const primitive of resources ? descendants(resources, 'primitive') : []) lines.push(...primitiveLines(primitive));
  for (const clone of resources ? descendants(resources, 'clone') : []) {
    const child = clone.children.find((c) => c.name === 'primitive' || c.name === 'group');
    lines.push([`clone ${clone.attributes.id} ${child?.attributes.id}`, ...nvpairs(clone, 'meta_attributes')].join(' '));
  }
  for (const constraint of constraints?.children ?? []) {
    const a = constraint.attributes;
    if (constraint.name === 'rsc_colocation') {
      lines.push(`colocation ${a.id} ${a.rsc} with ${a['with-rsc']} score=${a.score}`);
    } else if (constraint.name === 'rsc_order') {
      // Pacemaker's defaults: first-action start, then-action the first's action, kind Mandatory.
      const firstAction = a['first-action'] ?? 'start';
      lines.push(`order ${a.id} ${a.first}:${firstAction} then ${a.then}:${a['then-action'] ?? firstAction} kind=${a.kind ?? 'Mandatory'}`);
    } else {
      lines.push(`${constraint.name} ${a.id}`);
    }
  }
  return lines.sort();
}

/** Pcs 0.11's rule (pcs/lib/cib/resource/agent.py): every action but these becomes an operation. */
const NOT_OPERATIONS = new Set(['meta-data', 'status', 'validate-all']);

/**
 * The operations `pcs resource create` writes from an agent's meta-data for the actions its command
 * line did not name: the advertised interval (monitor: 60s when none, others 0s) and timeout, and
 * `OCF_CHECK_LEVEL` for a depth other than 0.
 */
export function pcsDefaultOperations(resource: string, metadataXml: string, named: readonly string[] = []): string[] {
  return descendants(parseXml(metadataXml), 'action')
    .filter((action) => !NOT_OPERATIONS.has(action.attributes.name!) && !named.includes(action.attributes.name!))
    .map(({ attributes: a }) => {
      const depth = a.depth === undefined || a.depth === '0' ? undefined : a.depth;
      return operationLine(resource, { name: a.name, interval: a.interval ?? (a.name === 'monitor' ? '60s' : '0s'), timeout: a.timeout, role: a.role, 'start-delay': a['start-delay'] }, depth);
    });
}
