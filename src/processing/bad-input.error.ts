/**
 * The batch itself is unusable (not CSV, ragged, no numeric column...). Retrying cannot help, so the
 * queue records it at once in `processed/<name>_error.json`. `line` is 1-based, in the raw file.
 */
export class BadInputError extends Error {
  override readonly name = 'BadInputError';

  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }

  /** The message without the `line N:` prefix. */
  get reason(): string {
    return this.line === undefined ? this.message : this.message.slice(`line ${this.line}: `.length);
  }
}
