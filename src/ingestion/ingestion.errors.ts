/** The request is not an SNS message we can read (→ 400). */
export class SnsMessageError extends Error {
  override readonly name = 'SnsMessageError';
}

/** The message is readable but must not be trusted: bad signature, certificate URL, topic... (→ 403). */
export class SnsVerificationError extends Error {
  override readonly name = 'SnsVerificationError';
}

/**
 * Something we depend on did not answer (the signing certificate's host, the subscription
 * confirmation URL, the processing queue). Transient: answered with 503 so that SNS delivers again.
 */
export class IngestionUnavailableError extends Error {
  override readonly name = 'IngestionUnavailableError';
}
