export {
  CertificateAuthority,
  LEAF_RENEW_BEFORE_MS,
  type CaOptions,
  type CaStats,
  type FromPemOptions,
  type LeafCertificate,
} from './certificate-authority.js';
export { CA_CERT_FILE, CA_KEY_FILE } from './ca-files.js';
export { describeCertificate, type CertificateSummary } from './describe.js';
export { CaError, type CaErrorCode } from './errors.js';
export {
  CA_EXPORT_FORMATS,
  certificateDer,
  certificatePkcs12,
  isCaExportFormat,
  type CaExportFormat,
} from './export.js';
export { parseCertHost, type CertHost } from './host.js';
export {
  installIntoNss,
  manualTrustSteps,
  nssDbDir,
  nssNickname,
  parseNssList,
  NSS_TRUST,
  type NssInstallOptions,
  type NssInstallResult,
  type NssEntry,
} from './install.js';
