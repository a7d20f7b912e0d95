"""A provider network mirror on loopback serving a release snapshot, as a registry would serve it.

Usage: provider-mirror.py DIST HOST/NAMESPACE/TYPE

Lays DIST's zips out as `terraform providers mirror` does (HOST/NAMESPACE/TYPE/<zip>, with the
index.json and <version>.json of the provider network mirror protocol), serves it over HTTPS on
127.0.0.1 with a self-signed certificate, prints one JSON line and serves until stdin closes:
  {"url": <mirror URL>, "ca": <certificate file>, "version": <version>,
   "zh": {<os_arch>: "zh:<sha256 from _SHA256SUMS>"}, "h1": {<os_arch>: "h1:<hash of contents>"}}
The archives' hashes in <version>.json are the `zh:` entries of the snapshot's _SHA256SUMS, so
Terraform verifies every zip it installs against that file, as it does against a registry's. A
zip or the manifest missing from _SHA256SUMS is refused here, as the Registry refuses it.
"""

import base64
import datetime
import functools
import hashlib
import http.server
import ipaddress
import json
import re
import shutil
import ssl
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def hash1(archive: Path) -> str:
    """Terraform's `h1:` package hash (Go's dirhash.Hash1 over the zip's files)."""
    with zipfile.ZipFile(archive) as z:
        summary = "".join(
            f"{hashlib.sha256(z.read(name)).hexdigest()}  {name}\n"
            for name in sorted(n for n in z.namelist() if not n.endswith("/"))
        )
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


def certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "mirror.crt", directory / "mirror.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def lay_out(dist: Path, address: str, root: Path) -> dict:
    """The mirror's files under root; returns what the caller needs to know about them."""
    kind = address.split("/")[-1]
    sums_files = list(dist.glob(f"terraform-provider-{kind}_*_SHA256SUMS"))
    if len(sums_files) != 1:
        sys.exit(f"expected one _SHA256SUMS in {dist}, found {sums_files}")
    sums_file = sums_files[0]
    prefix = sums_file.name.removesuffix("_SHA256SUMS")
    version = prefix.split("_")[1]
    sums = {}
    for line in sums_file.read_text().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    manifest = dist / f"{prefix}_manifest.json"
    if sums.get(manifest.name) != hashlib.sha256(manifest.read_bytes()).hexdigest():
        sys.exit(f"{manifest.name} missing from {sums_file.name} or not matching it")

    target = root / address
    target.mkdir(parents=True)
    archives, zh, h1 = {}, {}, {}
    for archive in sorted(dist.glob(f"{prefix}_*_*.zip")):
        match = re.fullmatch(re.escape(prefix) + r"_([a-z0-9]+_[a-z0-9]+)\.zip", archive.name)
        if not match:
            sys.exit(f"{archive.name} is not named <project>_<version>_<os>_<arch>.zip")
        if archive.name not in sums:
            sys.exit(f"{archive.name} missing from {sums_file.name}")
        os_arch = match.group(1)
        shutil.copyfile(archive, target / archive.name)
        zh[os_arch] = f"zh:{sums[archive.name]}"
        h1[os_arch] = hash1(archive)
        archives[os_arch] = {"url": archive.name, "hashes": [zh[os_arch]]}
    if not archives:
        sys.exit(f"no {prefix}_<os>_<arch>.zip in {dist}")
    (target / "index.json").write_text(json.dumps({"versions": {version: {}}}))
    (target / f"{version}.json").write_text(json.dumps({"archives": archives}))
    return {"version": version, "zh": zh, "h1": h1}


def main() -> int:
    dist, address = Path(sys.argv[1]), sys.argv[2]
    work = Path(tempfile.mkdtemp(prefix="tap-mirror-"))
    try:
        facts = lay_out(dist, address, work / "mirror")
        cert_file, key_file = certificate(work)
        handler = functools.partial(Quiet, directory=str(work / "mirror"))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"https://127.0.0.1:{server.server_address[1]}/"
        print(json.dumps({"url": url, "ca": str(cert_file), **facts}), flush=True)
        sys.stdin.read()
        server.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
