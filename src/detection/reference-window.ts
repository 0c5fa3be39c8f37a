/**
 * The isolation forest's training data: recent rows that were scored normal, raw values, bounded.
 *
 * Why rows are committed in chunks: the forest must be a pure function of persisted state, so that
 * the same baseline file gives the same scores after a restart and so that a model fitted once can be
 * reused for many batches. Rows first go to `pending`; they move into the window only when
 * `pending >= commitEvery` (or, while the window is empty, as soon as `pending >= minInitial`), then
 * the oldest rows beyond `capacity` are evicted. `generation` changes only on commit (and on a clear
 * that removed something), so a forest cached by generation stays valid between commits.
 *
 * Committed rows are immutable and the committed list is replaced (never mutated) on commit, so
 * `clone()` is cheap: it shares the committed list and copies only the pending references.
 */
import { ReferenceWindowView } from './detection.types';

export interface ReferenceWindowOptions {
  /** Most rows kept (default 2048). */
  capacity?: number;
  /** Pending rows that trigger a commit (default 512). */
  commitEvery?: number;
  /** While the window is empty, pending rows that trigger the first commit (default 256). */
  minInitial?: number;
}

export interface WindowRow {
  readonly values: Float64Array;
  readonly entity?: string;
}

export interface ReferenceWindowJson {
  version: 1;
  columns: string[];
  capacity: number;
  commitEvery: number;
  minInitial: number;
  generation: number;
  /** Committed rows, oldest first; a missing value is `null`. */
  rows: (number | null)[][];
  /** Entity of each committed row (`null` for none); omitted when no row has one. */
  entities?: (string | null)[];
  pending: (number | null)[][];
  pendingEntities?: (string | null)[];
}

export class ReferenceWindowFormatError extends Error {}

const DEFAULTS = { capacity: 2048, commitEvery: 1024, minInitial: 256 };

export class ReferenceWindow implements ReferenceWindowView {
  readonly columns: readonly string[];
  readonly capacity: number;
  readonly commitEvery: number;
  readonly minInitial: number;
  private committed: readonly WindowRow[] = [];
  private pending: WindowRow[] = [];
  private gen = 0;
  /** The committed rows as JSON text, for the generation it was made for (they change only on commit). */
  private rowsText?: { gen: number; text: string };
  private rowsJson?: { gen: number; rows: (number | null)[][] };

  constructor(columns: readonly string[], options: ReferenceWindowOptions = {}) {
    if (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string')) {
      throw new ReferenceWindowFormatError('reference window columns must be an array of strings');
    }
    if (new Set(columns).size !== columns.length) throw new ReferenceWindowFormatError('reference window columns must be distinct');
    this.columns = Object.freeze([...columns]);
    this.capacity = positiveInt(options.capacity ?? DEFAULTS.capacity, 'capacity');
    this.commitEvery = positiveInt(options.commitEvery ?? DEFAULTS.commitEvery, 'commitEvery');
    this.minInitial = positiveInt(options.minInitial ?? Math.min(DEFAULTS.minInitial, this.commitEvery), 'minInitial');
  }

  get size(): number {
    return this.committed.length;
  }

  get generation(): number {
    return this.gen;
  }

  get pendingSize(): number {
    return this.pending.length;
  }

  row(i: number): WindowRow {
    const r = this.committed[i];
    if (r === undefined) throw new RangeError(`reference window row ${i} out of range (size ${this.committed.length})`);
    return r;
  }

  /** Adds a row scored normal (raw values in `columns` order; NaN for a missing value). */
  add(values: ArrayLike<number>, entity?: string): void {
    if (values.length !== this.columns.length) {
      throw new RangeError(`reference window expects ${this.columns.length} values, got ${values.length}`);
    }
    const copy = Float64Array.from(values as ArrayLike<number>);
    this.pending.push(entity === undefined ? { values: copy } : { values: copy, entity });
    const due = this.committed.length === 0 ? this.minInitial : this.commitEvery;
    if (this.pending.length >= due) this.commit();
  }

  /** Drops every row (e.g. the channel's regime changed: the rows belong to the old one). */
  clear(): void {
    if (this.committed.length === 0 && this.pending.length === 0) return;
    this.committed = [];
    this.pending = [];
    this.gen++;
  }

  /**
   * A copy with the named columns moved by the given amounts (a channel re-learned at a new level:
   * its relations to the others hold, its level moved), as a new generation.
   */
  shifted(by: ReadonlyMap<string, number>): ReferenceWindow {
    const delta = this.columns.map((c) => by.get(c) ?? 0);
    if (delta.every((d) => d === 0)) return this;
    const move = (r: WindowRow): WindowRow => {
      const values = Float64Array.from(r.values, (v, c) => v + delta[c]);
      return r.entity === undefined ? { values } : { values, entity: r.entity };
    };
    const copy = this.clone();
    copy.committed = this.committed.map(move);
    copy.pending = this.pending.map(move);
    copy.gen = this.gen + 1;
    return copy;
  }

  clone(): ReferenceWindow {
    const copy = new ReferenceWindow(this.columns, this);
    copy.committed = this.committed;
    copy.pending = this.pending.slice();
    copy.gen = this.gen;
    return copy;
  }

  /**
   * `JSON.stringify(this.toJSON().rows)`, cached per generation: the state is saved after every
   * batch, and re-formatting thousands of unchanged numbers each time is most of that cost.
   */
  committedRowsText(): string {
    if (this.rowsText?.gen !== this.gen) {
      this.rowsText = { gen: this.gen, text: JSON.stringify(this.committedRowsJson()) };
    }
    return this.rowsText.text;
  }

  private committedRowsJson(): (number | null)[][] {
    if (this.rowsJson?.gen !== this.gen) this.rowsJson = { gen: this.gen, rows: this.committed.map((r) => toJsonValues(r.values)) };
    return this.rowsJson.rows;
  }

  toJSON(): ReferenceWindowJson {
    return this.toJSONRows(true);
  }

  /**
   * `withRows` false leaves `rows` empty, for a caller that splices in `committedRowsText()`. Not a
   * parameter of `toJSON`: JSON.stringify calls that with the property's key ('' at the top).
   */
  toJSONRows(withRows: boolean): ReferenceWindowJson {
    const json: ReferenceWindowJson = {
      version: 1,
      columns: [...this.columns],
      capacity: this.capacity,
      commitEvery: this.commitEvery,
      minInitial: this.minInitial,
      generation: this.gen,
      rows: withRows ? this.committedRowsJson().map((r) => r.slice()) : [],
      pending: this.pending.map((r) => toJsonValues(r.values)),
    };
    if (this.committed.some((r) => r.entity !== undefined)) json.entities = this.committed.map((r) => r.entity ?? null);
    if (this.pending.some((r) => r.entity !== undefined)) json.pendingEntities = this.pending.map((r) => r.entity ?? null);
    return json;
  }

  static fromJSON(json: unknown): ReferenceWindow {
    const fail = (what: string): never => {
      throw new ReferenceWindowFormatError(`invalid reference window: ${what}`);
    };
    if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('expected an object');
    const j = json as Partial<ReferenceWindowJson>;
    if (j.version !== 1) fail(`unsupported version ${JSON.stringify(j.version)} (expected 1)`);
    if (!Array.isArray(j.columns) || !j.columns.every((c) => typeof c === 'string')) fail('"columns" must be an array of strings');
    for (const key of ['capacity', 'commitEvery', 'minInitial'] as const) {
      if (!Number.isInteger(j[key]) || (j[key] as number) < 1) fail(`"${key}" must be a positive integer`);
    }
    if (!Number.isInteger(j.generation) || (j.generation as number) < 0) fail('"generation" must be a non-negative integer');
    const columns = j.columns as string[];
    const window = new ReferenceWindow(columns, j as ReferenceWindowOptions);
    const rows = readRows(j.rows, j.entities, 'rows', 'entities', columns.length, fail);
    if (rows.length > window.capacity) fail(`"rows" holds ${rows.length} rows, more than capacity ${window.capacity}`);
    window.committed = rows;
    window.pending = readRows(j.pending, j.pendingEntities, 'pending', 'pendingEntities', columns.length, fail);
    window.gen = j.generation as number;
    return window;
  }

  private commit(): void {
    const merged = this.committed.concat(this.pending);
    this.committed = merged.length > this.capacity ? merged.slice(merged.length - this.capacity) : merged;
    this.pending = [];
    this.gen++;
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new ReferenceWindowFormatError(`reference window ${name} must be a positive integer, got ${v}`);
  return v;
}

function toJsonValues(values: Float64Array): (number | null)[] {
  return Array.from(values, (v) => (Number.isFinite(v) ? v : null));
}

function readRows(
  rows: unknown,
  entities: unknown,
  rowsKey: string,
  entitiesKey: string,
  width: number,
  fail: (what: string) => never,
): WindowRow[] {
  if (!Array.isArray(rows)) return fail(`"${rowsKey}" must be an array`);
  if (entities !== undefined && (!Array.isArray(entities) || entities.length !== rows.length)) {
    fail(`"${entitiesKey}" must be an array as long as "${rowsKey}"`);
  }
  return rows.map((row, i) => {
    if (!Array.isArray(row) || row.length !== width) fail(`"${rowsKey}"[${i}] must be an array of ${width} numbers or nulls`);
    const values = new Float64Array(width);
    (row as unknown[]).forEach((v, c) => {
      if (v === null) values[c] = NaN;
      else if (typeof v === 'number' && Number.isFinite(v)) values[c] = v;
      else fail(`"${rowsKey}"[${i}][${c}] must be a finite number or null`);
    });
    const e = (entities as unknown[] | undefined)?.[i];
    if (e !== undefined && e !== null && typeof e !== 'string') fail(`"${entitiesKey}"[${i}] must be a string or null`);
    return typeof e === 'string' ? { values, entity: e } : { values };
  });
}
