// Meta-data XML generated from an agent's declaration: valid against ra-api-1.dtd and OCF 1.1's
// metadata.rng alike (so no content types beyond string/integer/boolean/time).
import type { Agent } from './agent.ts';
import type { ParameterSpec } from './parameters.ts';
import pkg from '../../package.json' with { type: 'json' };

export const SUITE_VERSION: string = pkg.version;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The default as meta-data shows it; a computed default has none (its longdesc says how). */
export function shownDefault(spec: ParameterSpec<unknown>): string | undefined {
  if (spec.shownDefault !== undefined) return spec.shownDefault;
  if (spec.default === undefined || typeof spec.default === 'function') return undefined;
  return String(spec.default);
}

/** The longdesc with what the declaration knows beyond it: allowed values. */
export function fullLongdesc(spec: ParameterSpec<unknown>): string {
  return spec.choices ? `${spec.longdesc} Allowed values: ${spec.choices.join(', ')}.` : spec.longdesc;
}

function parameterXml(name: string, spec: ParameterSpec<unknown>): string {
  const fallback = shownDefault(spec);
  return [
    `<parameter name="${escapeXml(name)}" unique="${spec.unique ? 1 : 0}" required="${spec.required ? 1 : 0}">`,
    `<longdesc lang="en">${escapeXml(fullLongdesc(spec))}</longdesc>`,
    `<shortdesc lang="en">${escapeXml(spec.shortdesc)}</shortdesc>`,
    `<content type="${spec.type}"${fallback === undefined ? '' : ` default="${escapeXml(fallback)}"`} />`,
    '</parameter>',
  ].join('\n');
}

export function renderMetadata(agent: Agent): string {
  const actions = Object.entries(agent.actions).flatMap(([name, action]) =>
    'depths' in action
      // One monitor per depth: pcs makes one operation of each, with OCF_CHECK_LEVEL for levels above 0.
      ? action.depths.map((depth) => `<action name="${name}" timeout="${depth.timeout}s" interval="${depth.interval}s" depth="${depth.level}" />`)
      : [`<action name="${name}" timeout="${action.timeout}s" />`],
  );
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">',
    `<resource-agent name="${agent.name}" version="${SUITE_VERSION}">`,
    '<version>1.1</version>',
    `<longdesc lang="en">${escapeXml(agent.longdesc)}</longdesc>`,
    `<shortdesc lang="en">${escapeXml(agent.shortdesc)}</shortdesc>`,
    '<parameters>',
    ...Object.entries(agent.parameters).map(([name, spec]) => parameterXml(name, spec)),
    '</parameters>',
    '<actions>',
    ...actions,
    '<action name="meta-data" timeout="5s" />',
    '</actions>',
    '</resource-agent>',
    '',
  ].join('\n');
}
