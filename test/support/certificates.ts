/**
 * A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with the
 * openssl command (on every Debian machine) into a temporary directory.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Certificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the server does not trust. */
  strangerCert: string;
  strangerKey: string;
}

export function makeCertificates(dir: string): Certificates {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const path = (name: string) => join(dir, name);
  const key = (name: string) => openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path(name));
  const selfSigned = (name: string, subject: string) => {
    key(`${name}.key`);
    openssl("req", "-x509", "-new", "-key", path(`${name}.key`), "-days", "2", "-subj", subject, "-out", path(`${name}.crt`));
  };
  const signed = (name: string, subject: string, caName: string, extensions: string) => {
    key(`${name}.key`);
    openssl("req", "-new", "-key", path(`${name}.key`), "-subj", subject, "-out", path(`${name}.csr`));
    writeFileSync(path(`${name}.ext`), extensions);
    openssl(
      "x509",
      "-req",
      "-in",
      path(`${name}.csr`),
      "-CA",
      path(`${caName}.crt`),
      "-CAkey",
      path(`${caName}.key`),
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      path(`${name}.ext`),
      "-out",
      path(`${name}.crt`),
    );
  };
  selfSigned("ca", "/CN=logbook test CA");
  selfSigned("stranger-ca", "/CN=someone else");
  signed("server", "/CN=127.0.0.1", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  signed("client", "/CN=client", "ca", "extendedKeyUsage=clientAuth\n");
  signed("stranger", "/CN=stranger", "stranger-ca", "extendedKeyUsage=clientAuth\n");
  return {
    ca: path("ca.crt"),
    serverCert: path("server.crt"),
    serverKey: path("server.key"),
    clientCert: path("client.crt"),
    clientKey: path("client.key"),
    strangerCert: path("stranger.crt"),
    strangerKey: path("stranger.key"),
  };
}
