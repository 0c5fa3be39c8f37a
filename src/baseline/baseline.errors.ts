/** A stored baseline that cannot be loaded; the message names the file, the key and what is wrong. */
export class BaselineFormatError extends Error {
  override readonly name = 'BaselineFormatError';
}

/** A batch contribution the baseline refuses (it would corrupt the state); nothing was folded. */
export class InvalidContributionError extends Error {
  override readonly name = 'InvalidContributionError';
}

/** The service cannot start without risking the stored baseline; the message says what to do. */
export class BaselineLoadError extends Error {
  override readonly name = 'BaselineLoadError';
  /** True when storage did not answer (worth starting again later), false when the data is bad. */
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message);
  }
}
