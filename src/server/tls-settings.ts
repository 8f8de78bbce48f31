/**
 * The TLS files of the server's settings, read and checked at startup: a certificate that
 * does not parse, a key that is not the certificate's, or a CA file that holds no PEM
 * certificate is refused with LOGBOOK_INVALID_OPTION before anything listens. Node would
 * otherwise throw an untyped error at listen time, or (for the CA) accept the file and then
 * refuse every client's handshake.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { LogbookError } from "../errors.js";
import type { ServerConfig } from "./config.js";

export interface TlsSettings {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The TLS options for the HTTPS server, or undefined when the settings ask for plain HTTP. */
export function readTlsSettings(config: ServerConfig): TlsSettings | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined;
  const tls: TlsSettings = { cert: readTlsFile(config.tlsCert, "certificate"), key: readTlsFile(config.tlsKey, "key") };
  try {
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (error) {
    throw new LogbookError(
      "LOGBOOK_INVALID_OPTION",
      `the TLS certificate ${config.tlsCert} and key ${config.tlsKey} cannot be used together: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (config.tlsCa === undefined) return tls;
  const ca = readTlsFile(config.tlsCa, "CA certificate");
  checkCertificates(ca, config.tlsCa);
  return { ...tls, ca, requestCert: true, rejectUnauthorized: true };
}

function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new LogbookError("LOGBOOK_INVALID_OPTION", `cannot read the TLS ${what} ${path}`, { cause: error });
  }
}

/** Every PEM block of a CA file must be a certificate, and there must be at least one. */
function checkCertificates(pem: Buffer, path: string): void {
  const blocks = pem.toString("latin1").match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new LogbookError("LOGBOOK_INVALID_OPTION", `the TLS CA file ${path} holds no PEM certificate`);
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new LogbookError(
        "LOGBOOK_INVALID_OPTION",
        `certificate ${index + 1} of the TLS CA file ${path} does not parse: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
