"""A fake of Google Translate's text-to-speech endpoint, reached the way gTTS really goes out.

gTTS 2.5.4 posts to ``https://translate.google.<tld>/_/TranslateWebserverUi/data/batchexecute``
with ``proxies=urllib.request.getproxies()`` and ``verify=False``. So the fake is an HTTPS
proxy on loopback: set ``HTTPS_PROXY`` to ``fake.proxy_url`` and gTTS, unchanged and
unpatched, sends its CONNECT here; the fake answers the tunnelled TLS request itself
(with a throwaway self-signed certificate, which gTTS does not check) in Google's
``batchexecute`` format, carrying a real MP3 made of silent MPEG-2 layer III frames.

gTTS does not check the certificate, but the TLS client still loads the system's trusted
certificates for every request (about 0.1 s); pointing ``SSL_CERT_FILE`` at
``fake.cert_file`` makes that instant, and trusts nothing but the fake.

``fail_next(429)`` answers the next request with that status; ``fail_next("hang")`` holds
it for ``hang_seconds``, longer than the client's time-out.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# MPEG-2 layer III, 32 kbit/s, 24 kHz, mono: 96-byte frames of 576 samples (24 ms each).
# All-zero side information means no audio data: the frames decode to silence.
FRAME = bytes([0xFF, 0xF3, 0x44, 0xC0]) + bytes(92)
FRAME_SECONDS = 576 / 24000
SECONDS_PER_WORD = 0.35


def silent_mp3(seconds: float) -> bytes:
    """A valid MP3 stream of about ``seconds`` of silence."""
    return FRAME * max(2, math.ceil(seconds / FRAME_SECONDS))


def mp3_for(text: str) -> bytes:
    """What the fake returns for ``text``: silence as long as the words would take."""
    return silent_mp3(SECONDS_PER_WORD * len(text.split()))


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "translate.google.co.uk")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def batchexecute_body(audio: bytes) -> bytes:
    """Google's batchexecute answer carrying ``audio`` as gTTS expects to find it."""
    payload = json.dumps([base64.b64encode(audio).decode()])
    row = [["wrb.fr", "jQ1olc", payload, None, None, None, "generic"]]
    line = json.dumps(row, separators=(",", ":"))
    return f")]}}'\n\n{len(line)}\n{line}\n".encode()


class FakeGoogleTTS:
    """Start with ``with FakeGoogleTTS() as fake:``; point ``HTTPS_PROXY`` at ``proxy_url``."""

    def __init__(self, hang_seconds: float = 3.0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.tunnels: list[str] = []
        self.failures: list[int | str] = []
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.folder = tempfile.TemporaryDirectory()
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.cert_file, key_file = _self_signed(Path(self.folder.name))
        self.tls.load_cert_chain(self.cert_file, key_file)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_CONNECT(self) -> None:  # noqa: N802 (http.server's name)
                """Open the tunnel, then speak TLS and serve what comes through it."""
                with fake.lock:
                    fake.tunnels.append(self.path)
                self.send_response(200, "Connection established")
                self.end_headers()
                self.connection = fake.tls.wrap_socket(self.connection, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb")
                self.close_connection = False

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                rpc = json.loads(form["f.req"][0])
                text, lang, *_ = json.loads(rpc[0][0][1])
                with fake.lock:
                    fake.requests.append({"path": self.path, "text": text, "lang": lang})
                    failure = fake.failures.pop(0) if fake.failures else None
                if failure == "hang":
                    fake.stopping.wait(fake.hang_seconds)
                status = failure if isinstance(failure, int) else 200
                body = batchexecute_body(mp3_for(text)) if status == 200 else b"Too many"
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        return Handler

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def texts(self) -> list[str]:
        with self.lock:
            return [r["text"] for r in self.requests]

    def fail_next(self, *failures: int | str) -> None:
        with self.lock:
            self.failures.extend(failures)

    def __enter__(self) -> FakeGoogleTTS:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.folder.cleanup()
