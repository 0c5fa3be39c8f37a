import { parse } from 'csv-parse';
import { Readable } from 'node:stream';

export type CellValue = string | number | boolean | null;
export type AnomalyRow = Record<string, CellValue>;

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A CSV cell as JSON would show it: numbers as numbers, True/False as booleans, empty as null. */
export function typedCell(raw: string): CellValue {
  if (raw === '') return null;
  if (NUMBER.test(raw)) return Number(raw);
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return raw;
}

/**
 * Reads the rows whose `anomaly` column is true from a scored CSV stream, stopping after `max` of
 * them so a huge file is not read to its end for a page of results.
 */
export async function readAnomalyRows(stream: Readable, max: number): Promise<AnomalyRow[]> {
  const parser = stream.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }));
  const rows: AnomalyRow[] = [];
  let header: string[] | undefined;
  let anomalyAt = -1;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record;
        anomalyAt = header.indexOf('anomaly');
        if (anomalyAt < 0) break; // not a scored file
        continue;
      }
      if (typedCell(record[anomalyAt] ?? '') !== true) continue;
      const row: AnomalyRow = {};
      header.forEach((name, i) => (row[name] = typedCell(record[i] ?? '')));
      rows.push(row);
      if (rows.length >= max) break;
    }
  } finally {
    stream.destroy();
  }
  return rows;
}
