// The agents of the suite by name, loaded on demand so one agent's code never slows another.
import type { AnyAgent } from "../shared/ocf/agent.ts";

const loaders = {
  memcached: () => import('./memcached.ts'),
  ceilometer: () => import('./ceilometer.ts'),
  keystone: () => import('./keystone.ts'),
  haproxy: () => import('./haproxy.ts'),
} satisfies Record<string, () => Promise<{ default: AnyAgent }>>;

export type AgentName = keyof typeof loaders;

export const agentNames = Object.keys(loaders) as AgentName[];

export function isAgentName(name: string): name is AgentName {
  return Object.hasOwn(loaders, name);
}

export async function loadAgent(name: AgentName): Promise<AnyAgent> {
  return (await loaders[name]()).default;
}
