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
}
