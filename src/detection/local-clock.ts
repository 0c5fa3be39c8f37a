/**
 * Local wall-clock time in one IANA time zone, for the slots of seasonal baselines: office hours and
 * nights follow the local clock, daylight saving included. Offsets are read from Intl once per
 * UTC hour and cached, because formatting a date per row would cost more than scoring the row.
 */
const HOUR_MS = 3_600_000;
/** Cached hours before the cache is cleared: bounded memory whatever the time span of the data. */
const CACHE_HOURS = 8192;

export class LocalClock {
  private readonly format: Intl.DateTimeFormat | undefined;
  private readonly offsets = new Map<number, number>();

  /** Throws a RangeError naming the zone when the runtime does not know it. */
  constructor(readonly timeZone = 'UTC') {
    if (timeZone === 'UTC') return;
    try {
      this.format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`unknown time zone "${timeZone}" (an IANA name such as UTC, Europe/Paris or America/New_York)`);
    }
  }

  /** ms since the epoch as the local clock shows it, counted as if it were UTC. */
  local(utcMs: number): number {
    if (this.format === undefined) return utcMs;
    const hour = Math.floor(utcMs / HOUR_MS);
    let offset = this.offsets.get(hour);
    if (offset === undefined) {
      offset = this.offsetAt(hour * HOUR_MS);
      if (this.offsets.size >= CACHE_HOURS) this.offsets.clear();
      this.offsets.set(hour, offset);
    }
    return utcMs + offset;
  }

  private offsetAt(utcMs: number): number {
    const parts: Record<string, number> = {};
    for (const p of this.format!.formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    return asUtc - utcMs;
  }
}

/** Whether the runtime knows the zone (for configuration checks). */
export function isTimeZone(name: string): boolean {
  try {
    new LocalClock(name);
    return true;
  } catch {
    return false;
  }
}
