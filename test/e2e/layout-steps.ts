// A Pacemaker layout as data (primitives, clones, colocations, orders), written in each client's
// syntax: crmsh's `crm configure ...` lines and `pcs ...` lines (pcs 0.11 and 0.12 alike). The one-node layout
// (layout.ts) and the three-node layout (three-layout.ts) both declare theirs this way, so the two
// clients are given the same layout and docs/pacemaker.md can show both.

/** One primitive of the layout, cloned or not, as both clients take it. */
export interface LayoutPrimitive {
  readonly id: string;
  readonly agent: string;
  readonly params: readonly string[];
  /** Operations as `[name, ...options]`, e.g. `['monitor', 'interval=2s', 'timeout=20s']`. */
  readonly ops: readonly (readonly string[])[];
  readonly clone?: { readonly id: string; readonly meta: readonly string[] };
}

export type LayoutStep =
  | ({ readonly kind: 'primitive' } & LayoutPrimitive)
  | { readonly kind: 'colocation'; readonly id: string; readonly rsc: string; readonly withRsc: string }
  /** An order is Mandatory unless it says otherwise (pcs is then given no kind, its default). */
  | { readonly kind: 'order'; readonly id: string; readonly first: string; readonly then: string; readonly order?: 'Mandatory' | 'Optional' };

export function primitivesOf(steps: readonly LayoutStep[]): LayoutPrimitive[] {
  return steps.flatMap((step) => (step.kind === 'primitive' ? [step] : []));
}

/** Each entry is one `crm configure ...` command line, split into words. */
export function crmLines(steps: readonly LayoutStep[]): string[][] {
  return steps.flatMap((step): string[][] => {
    switch (step.kind) {
      case 'primitive': {
        const primitive = ['primitive', step.id, step.agent, 'params', ...step.params, ...step.ops.flatMap((op) => ['op', ...op])];
        if (!step.clone) return [primitive];
        return [primitive, ['clone', step.clone.id, step.id, ...(step.clone.meta.length ? ['meta', ...step.clone.meta] : [])]];
      }
      case 'colocation':
        return [['colocation', step.id, 'inf:', step.rsc, step.withRsc]];
      case 'order':
        return [['order', step.id, `${step.order ?? 'Mandatory'}:`, step.first, step.then]];
    }
  });
}

/**
 * Each entry is one `pcs ...` command line, split into words, meaning the same to pcs 0.11 and 0.12
 * (`clone ID`, where older pcs took `--clone`). A clone's meta attributes go in a `pcs resource
 * meta` line of their own: `clone ID opt=val` is deprecated by pcs 0.12, and `clone ID meta opt=val`
 * puts them on the primitive in pcs 0.11 and 0.12 (the clone only with 0.12's --future). The
 * colocation score is `score=INFINITY` (a bare score is deprecated by pcs 0.12). Constraints get
 * crmsh's ids, so that both clients' CIBs name them alike.
 */
export function pcsLines(steps: readonly LayoutStep[]): string[][] {
  return steps.flatMap((step): string[][] => {
    switch (step.kind) {
      case 'primitive': {
        const create = ['resource', 'create', step.id, step.agent, ...step.params, ...(step.ops.length ? ['op', ...step.ops.flat()] : []),
          ...(step.clone ? ['clone', step.clone.id] : [])];
        return step.clone?.meta.length ? [create, ['resource', 'meta', step.clone.id, ...step.clone.meta]] : [create];
      }
      case 'colocation':
        return [['constraint', 'colocation', 'add', step.rsc, 'with', step.withRsc, 'score=INFINITY', `id=${step.id}`]];
      case 'order':
        return [['constraint', 'order', 'start', step.first, 'then', step.then, ...(step.order ? [`kind=${step.order}`] : []), `id=${step.id}`]];
    }
  });
}
