import { ServiceLogLine } from './service-process';

/** A time span in which some error lines are the expected consequence of a fault the soak injected. */
export interface FaultWindow {
  kind: 'outage' | 'kill';
  /** ms since epoch */
  from: number;
  to: number;
}

/** An error line that a fault explains: which fault, and what the line must say. */
interface ExpectedRule {
  name: string;
  fault: FaultWindow['kind'];
  pattern: RegExp;
}

/**
 * What the service may log at error level because S3 was away: a failed baseline flush (the state
 * stays in memory and in the local copy, retried next tick). Anything that says a batch was given up
 * on (`failed after N attempt(s)`) is never expected: with the retry schedule the outage must be
 * ridden out.
 */
const EXPECTED: ExpectedRule[] = [
  { name: 'baseline flush failed during the S3 outage', fault: 'outage', pattern: /^Flush of the baseline to \S+ failed/ },
];

/** After a fault ends, lines caused by it may still come for this long (retries, next flush tick). */
export const FAULT_GRACE_MS = 5_000;

export interface LogReview {
  lines: number;
  warnings: number;
  errors: number;
  /** Error lines explained by a fault, grouped by rule name. */
  expected: Record<string, number>;
  /** Error or fatal lines no fault explains, plus any line that is not a JSON log record. */
  unexpected: ServiceLogLine[];
}

/**
 * Sorts the service's lines: error/fatal lines are expected only when a rule explains them and they
 * fall inside that rule's fault window (plus FAULT_GRACE_MS); a line that is not JSON (a crash's
 * stack trace, a stray console.log) is always unexpected under LOG_FORMAT=json.
 */
export function reviewLogs(lines: readonly ServiceLogLine[], windows: readonly FaultWindow[]): LogReview {
  const review: LogReview = { lines: lines.length, warnings: 0, errors: 0, expected: {}, unexpected: [] };
  for (const line of lines) {
    if (line.level === undefined) {
      review.unexpected.push(line);
      continue;
    }
    if (line.level === 'warn') review.warnings++;
    if (line.level !== 'error' && line.level !== 'fatal') continue;
    review.errors++;
    const rule = EXPECTED.find(
      (r) =>
        r.pattern.test(line.message) &&
        windows.some((w) => w.kind === r.fault && line.at >= w.from && line.at <= w.to + FAULT_GRACE_MS),
    );
    if (rule) review.expected[rule.name] = (review.expected[rule.name] ?? 0) + 1;
    else review.unexpected.push(line);
  }
  return review;
}
