/**
 * Values keyed by channel, or by (entity, channel) when ENTITY_COLUMN is configured. Nested maps
 * rather than a composite string key, so no channel or entity name (which are arbitrary CSV text)
 * can collide with another or with a reserved name.
 */
export class ChannelMap<T> {
  private readonly plain = new Map<string, T>();
  private readonly byEntity = new Map<string, Map<string, T>>();

  get(channel: string, entity?: string): T | undefined {
    return entity === undefined ? this.plain.get(channel) : this.byEntity.get(entity)?.get(channel);
  }

  set(channel: string, entity: string | undefined, value: T): void {
    if (entity === undefined) {
      this.plain.set(channel, value);
      return;
    }
    let channels = this.byEntity.get(entity);
    if (!channels) this.byEntity.set(entity, (channels = new Map()));
    channels.set(channel, value);
  }

  delete(channel: string, entity?: string): void {
    if (entity === undefined) {
      this.plain.delete(channel);
      return;
    }
    const channels = this.byEntity.get(entity);
    channels?.delete(channel);
    if (channels?.size === 0) this.byEntity.delete(entity);
  }

  /** Channels without an entity. */
  get plainCount(): number {
    return this.plain.size;
  }

  /** Distinct entities. */
  get entityCount(): number {
    return this.byEntity.size;
  }

  hasEntity(entity: string): boolean {
    return this.byEntity.has(entity);
  }

  get size(): number {
    let n = this.plain.size;
    for (const channels of this.byEntity.values()) n += channels.size;
    return n;
  }

  /** The channels without an entity. */
  *plainEntries(): IterableIterator<{ channel: string; value: T }> {
    for (const [channel, value] of this.plain) yield { channel, value };
  }

  entityNames(): string[] {
    return [...this.byEntity.keys()];
  }

  /** Plain channels first, then entities, each in insertion order; with `only`, that entity's channels alone. */
  *entries(only?: string): IterableIterator<{ channel: string; entity?: string; value: T }> {
    if (only !== undefined) {
      for (const [channel, value] of this.byEntity.get(only) ?? []) yield { channel, entity: only, value };
      return;
    }
    for (const [channel, value] of this.plain) yield { channel, value };
    for (const [entity, channels] of this.byEntity) {
      for (const [channel, value] of channels) yield { channel, entity, value };
    }
  }

  map<U>(fn: (value: T) => U): ChannelMap<U> {
    const out = new ChannelMap<U>();
    for (const { channel, entity, value } of this.entries()) out.set(channel, entity, fn(value));
    return out;
  }
}

/** An object safe to hold any key, `__proto__` included, for JSON output. */
export function jsonRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Sets `key` as an own enumerable property even when it is `__proto__`. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
