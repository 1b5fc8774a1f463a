/** Stable codes for everything the certificate authority refuses; tests assert these, not messages. */
export type CaErrorCode =
  /** The root certificate file is missing, unreadable or not a PEM certificate. */
  | 'CA_CERT_INVALID'
  /** The root key file is missing, unreadable or not a PEM private key. */
  | 'CA_KEY_INVALID'
  /** The root certificate and the root key do not belong together. */
  | 'CA_KEY_MISMATCH'
  /** The key file exists without the certificate (an interrupted first start). */
  | 'CA_INCOMPLETE'
  /** The root certificate is not a CA certificate (basicConstraints CA:false or missing). */
  | 'CA_NOT_CA'
  /** The root certificate has expired. */
  | 'CA_EXPIRED'
  /** The root key is neither RSA nor EC, so leaves cannot be signed with it. */
  | 'CA_UNSUPPORTED_KEY'
  /** A host name given for a leaf certificate is empty, too long or malformed. */
  | 'CA_INVALID_HOST';

export class CaError extends Error {
  constructor(
    readonly code: CaErrorCode,
    message: string,
    options?: { cause?: unknown; path?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CaError';
    this.path = options?.path;
  }

  /** The file the error is about, when there is one. */
  readonly path: string | undefined;
}
