// One fault's timeline drawn as an SVG: the same fault injected into two Pacemaker layouts ("stock":
// the distribution's init scripts as lsb: resources; "ours": the OCF agents), one panel per layout
// on one time axis: what a client of the VIP saw (each request a tick, answered or not) and what
// the cluster did (crm_mon's events and the bench's fault and repair as vertical rules, labelled).
// Drawn with Vega-Lite (compiled to a Vega spec) and rendered headlessly by Vega's SVG string
// renderer (renderer 'none': no canvas, no DOM); positions not given by the time scale (the label
// rows, the lanes) are pixel values here, and the SVG text, its escaping included, is Vega's.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ClusterEvent, RequestMark } from '../e2e/faults.ts';

// A request and an event as test/e2e/faults.ts records them (times in ms since the fault).
export type { ClusterEvent, RequestMark };

/** One layout's run of one fault. */
export interface LayoutTimeline {
  readonly layout: string;             // e.g. 'stock (lsb:)' or 'ours (ocf:openstack:)'
  readonly requests: readonly RequestMark[];     // the GET /v3 loop through the VIP
  readonly tokens?: readonly RequestMark[];      // optional: token requests (POST) through the VIP, drawn as a second lane
  readonly events: readonly ClusterEvent[];
  readonly endMs: number;              // where the observation ended (ms since the fault)
}

/** The plot area's width, px (the lane names hang left of it: the whole is about 900 px wide). */
const PLOT_WIDTH = 800;
/** How far before the fault the time axis may begin, ms. */
const MAX_BEFORE_MS = 5_000;
/** A lane with more requests than this has its answered ones thinned. */
const MAX_LANE_MARKS = 3_000;
/** Answered requests kept in a thinned lane however many failed (so the answers' pattern stays visible). */
const MIN_ANSWERED_KEPT = 1_000;
/** Characters of an event's text in its label. */
const LABEL_TEXT_CHARS = 40;

const LANE_HEIGHT = 24;
const TICK_SIZE = 16;
const ROW_HEIGHT = 12;
const MAX_ROWS = 10;
const LABEL_FONT_SIZE = 9;
/** A generous width of one label character at LABEL_FONT_SIZE (sans-serif, not bold), px: for placing labels only. */
const LABEL_CHAR_PX = 5.4;

const ANSWERED = '#2ca02c';
const FAILED = '#d62728';
const KINDS = ['fault', 'repair', 'failed', 'stop', 'start', 'vip', 'node'] as const;
const EVENT_COLOUR: Readonly<Record<ClusterEvent['kind'], string>> = {
  fault: '#111111', repair: '#1f4fd8', failed: '#e07b00', stop: '#8e44ad', start: '#16a085', vip: '#8c564b', node: '#7f7f7f',
};
const EMPHASISED: ReadonlySet<ClusterEvent['kind']> = new Set(['fault', 'repair']);

/** A panel and one of its layers, as TopLevelSpec has them (vega-lite exports no name for them). */
type Panel = Extract<Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number], { layer: unknown }>;
type Layer = Panel['layer'][number];

/** A lane's requests in view, and those of them drawn. */
interface Lane { readonly name: string; readonly marks: readonly RequestMark[]; readonly drawn: readonly RequestMark[] }
/** An event's rule at `t` (seconds) and its label, `side` of it in `row` of the label band (null: no room, not drawn). */
interface Label { readonly t: number; readonly kind: ClusterEvent['kind']; readonly text: string; readonly side: 'right' | 'left'; readonly row: number | null }

/**
 * Draws one fault's timeline: one panel per layout, stacked in the order given (the first on top),
 * under `title`, all on one time axis in seconds since the fault (x = at / 1000).
 *
 * In each panel the requests are ticks in a lane (`requests`, then `tokens` when given), answered
 * (200) green, failed red; the events are vertical rules with a label (kind and the first 40
 * characters of the text), the fault and the repair drawn thicker and bold; when events crowd, the
 * labels finding no free row among 10 are left out (never the fault's or the repair's) and the
 * panel's subtitle counts them. The axis runs from the smallest `at` of every request and event,
 * but at most 5 s before the fault and at least from the fault, to the largest `endMs`; what lies
 * outside is not drawn. `ms` is neither drawn nor checked. A lane with more than 3000 requests in
 * view keeps every failed one and its answered ones thinned evenly over time (at most one per
 * equal slice of the lane's time, 3000 less the failed ones but at least 1000); a panel's subtitle
 * gives the counts in view and how many answered were drawn. About 900 px wide; the height grows
 * with the lanes and the rows its labels need.
 *
 * @param title The document's title, drawn on top.
 * @param layouts The layouts' runs of the same fault; times (`at`, `endMs`) in ms since the fault.
 * @returns An SVG document (a string starting with `<svg`), its texts escaped (XML control
 *   characters other than tab and newline in titles, names and texts become spaces).
 * @throws {RangeError} (the promise rejects) when `layouts` is empty, when an `at` or an `endMs`
 *   is not a finite number, when an event's kind is not one of ClusterEvent's kinds, or when no
 *   `endMs` is after the fault (> 0: nothing observed to draw). Vega's own errors (none
 *   expected) reject the promise as they are.
 */
export async function timelineSvg(title: string, layouts: readonly LayoutTimeline[]): Promise<string> {
  if (layouts.length === 0) throw new RangeError('timelineSvg: no layout to draw');
  let smallest = Infinity;
  let largestEnd = -Infinity;
  for (const layout of layouts) {
    const finite = (value: number, what: string) => {
      if (!Number.isFinite(value)) throw new RangeError(`timelineSvg: ${layout.layout}: ${what} is ${value}, not a finite number of ms`);
    };
    finite(layout.endMs, 'endMs');
    largestEnd = Math.max(largestEnd, layout.endMs);
    for (const [what, marks] of [['requests', layout.requests], ['tokens', layout.tokens ?? []]] as const) {
      for (const mark of marks) { finite(mark.at, `a mark of ${what}: at`); smallest = Math.min(smallest, mark.at); }
    }
    for (const event of layout.events) {
      if (!(KINDS as readonly string[]).includes(event.kind)) throw new RangeError(`timelineSvg: ${layout.layout}: event kind ${JSON.stringify(event.kind)} is not one of ${KINDS.join(', ')}`);
      finite(event.at, `a ${event.kind} event: at`);
      smallest = Math.min(smallest, event.at);
    }
  }
  const fromMs = Math.min(0, Math.max(smallest, -MAX_BEFORE_MS));
  if (!(largestEnd > 0)) throw new RangeError(`timelineSvg: the largest endMs (${largestEnd}) is not after the fault: nothing observed to draw`);
  const domain: [number, number] = [fromMs / 1000, largestEnd / 1000];

  const panels = layouts.map((layout, index) => panel(layout, index, domain, index === layouts.length - 1));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: plain(title),
      subtitle: 'ticks: requests through the VIP (green answered 200, red not); rules: events (black the fault, blue the repair)',
      anchor: 'start', fontSize: 14, subtitleFontSize: 10, subtitleColor: '#555555', offset: 10,
    },
    vconcat: panels,
    spacing: 72, // flush bounds: room for the x axis above and the title and subtitle below
    bounds: 'flush',
    background: 'white',
    padding: 8,
    config: { aria: false, view: { stroke: '#bbbbbb' }, axis: { labelFontSize: 10, titleFontSize: 11, gridColor: '#eeeeee' } },
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One layout's panel: the label band (one row per overlapping label), then the lanes. */
function panel(layout: LayoutTimeline, index: number, domain: readonly [number, number], last: boolean): Panel {
  const [fromS, toS] = domain;
  const inView = (at: number) => at / 1000 >= fromS && at / 1000 <= toS;
  const lane = (name: string, all: readonly RequestMark[]): Lane => {
    const marks = all.filter((m) => inView(m.at));
    return { name, marks, drawn: thin(marks) };
  };
  const lanes = [lane('requests', layout.requests), ...(layout.tokens === undefined ? [] : [lane('tokens', layout.tokens)])];
  const events = layout.events.filter((e) => inView(e.at)).toSorted((a, b) => a.at - b.at);
  const labels = placeLabels(events, domain);
  const rows = labels.reduce((most, label) => Math.max(most, (label.row ?? -1) + 1), 0);
  const unlabelled = labels.filter((l) => l.row === null).length;
  const band = rows > 0 ? rows * ROW_HEIGHT + 4 : 0;
  const height = band + lanes.length * LANE_HEIGHT;

  const x = {
    field: 't', type: 'quantitative' as const,
    scale: { domain: [fromS, toS], nice: false, zero: false },
    axis: { title: last ? 'seconds since the fault' : null, grid: true, tickCount: 12 },
  };
  const layers: Layer[] = [];
  // The lanes: a light band each, its name left of the plot.
  const laneRows = lanes.map((lane, j) => ({ name: lane.name, top: band + j * LANE_HEIGHT, bottom: band + (j + 1) * LANE_HEIGHT, middle: band + (j + 0.5) * LANE_HEIGHT }));
  layers.push({
    data: { values: laneRows },
    mark: { type: 'rect', fill: '#f5f5f5', stroke: '#e2e2e2', strokeWidth: 0.5 },
    encoding: { x: { value: 0 }, x2: { value: 'width' }, y: { field: 'top', type: 'quantitative', scale: null }, y2: { field: 'bottom' } },
  });
  layers.push({
    data: { values: laneRows },
    mark: { type: 'text', align: 'right', baseline: 'middle', fontSize: 10, color: '#333333' },
    encoding: { x: { value: -6 }, y: { field: 'middle', type: 'quantitative', scale: null }, text: { field: 'name' } },
  });
  // The events' rules, from their label's row (the unlabelled: the lanes' top) down through the
  // lanes; the fault's and the repair's over the ticks, the others under them.
  const rules = labels.map((label) => ({ t: label.t, top: label.row === null ? band : label.row * ROW_HEIGHT + 1, colour: EVENT_COLOUR[label.kind], emphasised: EMPHASISED.has(label.kind) }));
  const ruleLayer = (emphasised: boolean): Layer => ({
    data: { values: rules.filter((r) => r.emphasised === emphasised) },
    mark: emphasised ? { type: 'rule', strokeWidth: 2.5 } : { type: 'rule', strokeWidth: 1, strokeDash: [3, 2] },
    encoding: { x, y: { field: 'top', type: 'quantitative', scale: null }, y2: { value: height }, color: { field: 'colour', type: 'nominal', scale: null } },
  });
  if (rules.some((r) => !r.emphasised)) layers.push(ruleLayer(false));
  // The requests: per lane the answered, then the failed over them.
  lanes.forEach((lane, j) => {
    for (const ok of [true, false]) {
      const values = lane.drawn.filter((m) => m.ok === ok).map((m) => ({ t: m.at / 1000 }));
      if (values.length === 0) continue;
      layers.push({
        name: `panel${index}_${lane.name}_${ok ? 'answered' : 'failed'}`,
        data: { values },
        mark: { type: 'tick', orient: 'vertical', size: TICK_SIZE, thickness: ok ? 1 : 1.5, color: ok ? ANSWERED : FAILED, opacity: ok ? 0.55 : 0.9 },
        encoding: { x, y: { value: laneRows[j]!.middle } },
      });
    }
  });
  if (rules.some((r) => r.emphasised)) layers.push(ruleLayer(true));
  // The labels, beside their rules.
  for (const emphasised of [false, true]) {
    for (const side of ['right', 'left'] as const) {
      const values = labels.flatMap((l) => l.row === null || EMPHASISED.has(l.kind) !== emphasised || l.side !== side ? []
        : [{ t: l.t, y: l.row * ROW_HEIGHT + ROW_HEIGHT / 2 + 1, text: labelText(l), colour: EVENT_COLOUR[l.kind] }]);
      if (values.length === 0) continue;
      layers.push({
        data: { values },
        mark: { type: 'text', align: side === 'right' ? 'left' : 'right', dx: side === 'right' ? 3 : -3, baseline: 'middle', fontSize: LABEL_FONT_SIZE, fontWeight: emphasised ? 'bold' : 'normal' },
        encoding: { x, y: { field: 'y', type: 'quantitative', scale: null }, text: { field: 'text' }, color: { field: 'colour', type: 'nominal', scale: null } },
      });
    }
  }

  return {
    title: { text: plain(layout.layout), subtitle: [...lanes.map(laneSummary), ...(unlabelled > 0 ? [`${unlabelled} events too crowded to label`] : [])].join('; '), anchor: 'start', fontSize: 12, subtitleFontSize: 10, subtitleColor: '#555555', offset: 6 },
    width: PLOT_WIDTH,
    height,
    layer: layers,
  };
}

/** A lane's marks to draw: all of them up to MAX_LANE_MARKS, past that every failed one and the answered thinned evenly over time. */
function thin(marks: readonly RequestMark[]): readonly RequestMark[] {
  if (marks.length <= MAX_LANE_MARKS) return marks;
  const failed = marks.filter((m) => !m.ok);
  const answered = marks.filter((m) => m.ok).toSorted((a, b) => a.at - b.at);
  const budget = Math.max(MAX_LANE_MARKS - failed.length, MIN_ANSWERED_KEPT);
  if (answered.length <= budget) return marks;
  const first = answered[0]!.at;
  const span = answered.at(-1)!.at - first;
  const kept: RequestMark[] = [];
  let lastSlice = -1;
  for (const mark of answered) {
    // The first answered request of each of `budget` equal slices of the lane's time.
    const slice = span > 0 ? Math.min(budget - 1, Math.floor(((mark.at - first) / span) * budget)) : kept.length;
    if (slice > lastSlice && kept.length < budget) { kept.push(mark); lastSlice = slice; }
  }
  return [...kept, ...failed];
}

function laneSummary(lane: Lane): string {
  const failed = lane.marks.filter((m) => !m.ok).length;
  const thinned = lane.drawn.length < lane.marks.length ? `, ${lane.drawn.length - failed} of the ${lane.marks.length - failed} answered drawn` : '';
  return `${lane.name}: ${lane.marks.length} in view, ${failed} failed${thinned}`;
}

function labelText(label: Label): string {
  return label.text === '' ? label.kind : `${label.kind}: ${label.text}`;
}

/**
 * Each event's label placed: right of its rule (left of it when it would leave the plot), in the
 * first row where it overlaps no other label. The fault and the repair are placed first, and
 * always (when MAX_ROWS rows are full there, overlapping in the least filled row); the others are
 * left out (row null) when MAX_ROWS rows are full where they would go.
 */
function placeLabels(events: readonly ClusterEvent[], [fromS, toS]: readonly [number, number]): Label[] {
  const pxPerS = PLOT_WIDTH / (toS - fromS);
  const rows: [number, number][][] = []; // per row, the spans (px) its labels take
  const ordered = [...events.filter((e) => EMPHASISED.has(e.kind)), ...events.filter((e) => !EMPHASISED.has(e.kind))];
  return ordered.map((event) => {
    const t = event.at / 1000;
    const text = clip(plain(event.text).replace(/\s+/g, ' ').trim(), LABEL_TEXT_CHARS);
    const width = (event.kind.length + 2 + [...text].length) * LABEL_CHAR_PX * (EMPHASISED.has(event.kind) ? 1.12 : 1) + 4;
    const ruleX = (t - fromS) * pxPerS;
    const side = ruleX + 3 + width <= PLOT_WIDTH ? 'right' : 'left';
    const start = side === 'right' ? ruleX + 3 : ruleX - 3 - width;
    const end = start + width;
    let row: number | null = rows.findIndex((spans) => spans.every(([from, to]) => end + 6 <= from || to + 6 <= start));
    if (row < 0 && rows.length < MAX_ROWS) row = rows.length;
    if (row < 0) row = EMPHASISED.has(event.kind) ? rows.reduce((least, spans, r) => (spans.length < rows[least]!.length ? r : least), 0) : null;
    if (row !== null) (rows[row] ??= []).push([start, end]);
    return { t, kind: event.kind, text, side, row };
  });
}

/** The first `chars` characters (code points) of `text`, an ellipsis when it had more. */
function clip(text: string, chars: number): string {
  const points = [...text];
  return points.length <= chars ? text : `${points.slice(0, chars).join('')}…`;
}

/** `text` with what XML cannot carry (control characters but tab and newline, lone surrogates) made spaces. */
function plain(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, ' ');
}
