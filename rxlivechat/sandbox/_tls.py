"""A throwaway certificate authority and server certificate for the TLS mode.

The sandbox serves ``https``/``wss`` only for clients that insist on TLS (the
official lc-sdk-python hard-codes ``wss://``). ``cryptography`` is not a runtime
dependency, so the certificates come from the ``openssl`` command-line tool: a
CA, and a leaf certificate for ``127.0.0.1``/``localhost`` signed by it. Both
live in a temporary directory that :meth:`SelfSignedCertificate.cleanup` removes.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

__all__ = ["SelfSignedCertificate"]

_LEAF_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class SelfSignedCertificate:
    """A CA and a ``127.0.0.1`` server certificate, made with ``openssl``.

    Raises:
        RuntimeError: the ``openssl`` tool is missing or failed.
    """

    def __init__(self) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise RuntimeError(
                "the sandbox's TLS mode needs the openssl command-line tool"
            )
        self.directory = Path(tempfile.mkdtemp(prefix="rxlivechat-tls-"))
        """Where the PEM files are."""
        self.ca_file = self.directory / "ca.pem"
        """The CA certificate (PEM): trust it to verify the server."""
        self.cert_file = self.directory / "server.pem"
        """The server certificate (PEM)."""
        self.key_file = self.directory / "server-key.pem"
        """The server's private key (PEM)."""
        ca_key = self.directory / "ca-key.pem"
        csr = self.directory / "server.csr"
        extensions = self.directory / "server.ext"
        extensions.write_text(_LEAF_EXTENSIONS)
        try:
            self._run(
                openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", ca_key, "-out", self.ca_file, "-days", "2",
                "-subj", "/CN=rxlivechat sandbox CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            )  # fmt: skip
            self._run(
                openssl, "req", "-newkey", "rsa:2048", "-nodes",
                "-keyout", self.key_file, "-out", csr, "-subj", "/CN=127.0.0.1",
            )  # fmt: skip
            self._run(
                openssl, "x509", "-req", "-in", csr, "-CA", self.ca_file,
                "-CAkey", ca_key, "-CAcreateserial", "-out", self.cert_file,
                "-days", "2", "-extfile", extensions,
            )  # fmt: skip
        except BaseException:
            self.cleanup()
            raise

    # Public methods -----------------------------------------------------------------

    def server_context(self) -> ssl.SSLContext:
        """An SSL context for the server side, holding the leaf certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """An SSL context for clients that verifies the server against the CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def cleanup(self) -> None:
        """Remove the temporary directory and every file in it."""
        shutil.rmtree(self.directory, ignore_errors=True)

    # Private methods ----------------------------------------------------------------

    @staticmethod
    def _run(*args: str | Path) -> None:
        result = subprocess.run(
            [str(arg) for arg in args], capture_output=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"openssl failed: {result.stderr.decode(errors='replace').strip()}"
            )
