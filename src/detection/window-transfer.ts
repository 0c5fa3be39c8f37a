/**
 * A reference window as plain data that can be posted to a worker thread (its values in one
 * transferable buffer), and the read-only view rebuilt from it on the other side. Used by the
 * forest-fitting thread and the batch threads: the view gives the same rows, so what is fitted or
 * scored there is what would be fitted or scored here.
 */
import { ReferenceWindowView } from './detection.types';

export interface WindowData {
  columns: string[];
  size: number;
  generation: number;
  /** Row-major, `size * columns.length` values (NaN kept). */
  values: Float64Array;
  /** Per row; null when no row has an entity. */
  entities: (string | null)[] | null;
}

export function windowData(w: ReferenceWindowView): WindowData {
  const n = w.columns.length;
  const values = new Float64Array(w.size * n);
  const entities: (string | null)[] = [];
  let anyEntity = false;
  for (let i = 0; i < w.size; i++) {
    const row = w.row(i);
    values.set(row.values, i * n);
    entities.push(row.entity ?? null);
    if (row.entity !== undefined) anyEntity = true;
  }
  return { columns: [...w.columns], size: w.size, generation: w.generation, values, entities: anyEntity ? entities : null };
}

/** The window rebuilt from WindowData: each row a subarray of the one buffer, built once. */
export function windowView(data: WindowData): ReferenceWindowView {
  const { columns, size, generation, values, entities } = data;
  const n = columns.length;
  const rows = Array.from({ length: size }, (_, i) => {
    const row: { values: Float64Array; entity?: string } = { values: values.subarray(i * n, i * n + n) };
    const entity = entities?.[i];
    if (entity !== null && entity !== undefined) row.entity = entity;
    return Object.freeze(row);
  });
  return Object.freeze({
    columns: Object.freeze([...columns]),
    size,
    generation,
    row(i: number) {
      if (!(i >= 0 && i < size)) throw new RangeError(`reference window row ${i} out of range (size ${size})`);
      return rows[i];
    },
  });
}
