"""The Registry release, built here as GoReleaser builds it from `.goreleaser.yml`, unsigned.

Usage: release-snapshot.py [TARGET ...]   (default: every target in .goreleaser.yml)

Writes dist/: one `<project>_<version>_<os>_<arch>.zip` per target that builds (the binary and
README.md, as GoReleaser's default archive files), `<project>_<version>_manifest.json`, and
`<project>_<version>_SHA256SUMS` covering every zip and the manifest. The `_SHA256SUMS.sig` is
not made: signing is a release-time step with the maintainer's GPG key (SNAPSHOT.txt says so).
A target that does not build is reported, with cargo's last error line, in SNAPSHOT.txt; the
snapshot fails when none of the requested targets builds, when x86_64-unknown-linux-musl (the one
HCP Terraform needs) was requested and did not build, and when a binary that built is over the
size budget or, on Linux, not static.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
REQUIRED = "x86_64-unknown-linux-musl"
# The Registry's limit is on the zip; ours is on the binary, to notice a dependency that bloats it.
SIZE_BUDGET = 35 * 1024 * 1024
# GoReleaser's Rust builder names a target by the triple's architecture and its third part.
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7": "arm"}
# The names .goreleaser.yml must use: what the Registry's publishing guide asks for.
ARCHIVE_TEMPLATE = "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}"
SUMS_TEMPLATE = "{{ .ProjectName }}_{{ .Version }}_SHA256SUMS"
MANIFEST_TEMPLATE = "{{ .ProjectName }}_{{ .Version }}_manifest.json"


def platform(triple: str) -> str:
    """`x86_64-unknown-linux-musl` -> `linux_amd64`, as GoReleaser's `{{ .Os }}_{{ .Arch }}`."""
    parts = triple.split("-")
    return f"{parts[2]}_{ARCH[parts[0]]}"


def goreleaser() -> dict:
    config = yaml.safe_load((ROOT / ".goreleaser.yml").read_text())
    names = (
        config["archives"][0]["name_template"],
        config["checksum"]["name_template"],
        config["checksum"]["extra_files"][0]["name_template"],
    )
    if names != (ARCHIVE_TEMPLATE, SUMS_TEMPLATE, MANIFEST_TEMPLATE):
        sys.exit(f".goreleaser.yml names its artifacts {names}, this snapshot does not")
    return config


def build(triple: str, binary: str, flags: list[str], target_dir: Path) -> Path:
    """`cargo zigbuild`, GoReleaser's command for `builder: rust`; raises with cargo's error."""
    subprocess.run(["rustup", "target", "add", triple], check=True, capture_output=True)
    cargo = subprocess.Popen(
        ["cargo", "zigbuild", f"--target={triple}", *flags],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    errors, causes = [], []
    for line in cargo.stderr:
        sys.stderr.write(line)
        if line.startswith("error"):
            errors.append(line.strip())
        # The linker's own errors, under cargo's "linking with ... failed".
        elif line.strip().startswith("= note: error:"):
            causes.append(line.strip().removeprefix("= note: error:").strip())
    if cargo.wait() != 0:
        raise RuntimeError(reason(errors, causes) or f"cargo zigbuild exited {cargo.returncode}")
    exe = ".exe" if "windows" in triple else ""
    return target_dir / triple / "release" / f"{binary}{exe}"


def reason(errors: list[str], causes: list[str]) -> str:
    """Why a target did not build: the linker's first error when it failed, else cargo's last."""
    if any("unable to find system framework" in c for c in causes):
        return (
            f"{causes[0]}: Apple's macOS SDK (MacOSX.sdk, with the Security and CoreFoundation "
            "frameworks) is not on the package registries this machine reaches; the release "
            "machine builds it with Xcode's SDK (SDKROOT or DEVELOPER_DIR)"
        )
    return causes[0] if causes else (errors[-1] if errors else "")


def check_binary(triple: str, path: Path) -> str:
    """Static on Linux (nothing from the run environment's libraries), within the size budget."""
    size = path.stat().st_size
    if size > SIZE_BUDGET:
        sys.exit(f"{triple}: {path.name} is {size} bytes, over the {SIZE_BUDGET} budget")
    kind = subprocess.run(["file", "-b", path], capture_output=True, text=True).stdout.strip()
    if "linux" in triple:
        ldd = subprocess.run(["ldd", path], capture_output=True, text=True)
        linkage = (ldd.stdout + ldd.stderr).strip()
        if "statically linked" not in kind and "static-pie linked" not in kind:
            sys.exit(f"{triple}: {path.name} is not static: {kind}")
        if "not a dynamic executable" not in linkage and "statically linked" not in linkage:
            sys.exit(f"{triple}: {path.name} needs shared libraries: {linkage}")
    return f"{size} bytes, {kind}"


def zip_binary(binary: Path, archive: Path, timestamp: int) -> None:
    """A zip that depends only on its inputs: entries stamped with the commit's time."""
    date = time.gmtime(timestamp)[:6]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path, mode in ((binary, 0o755), (ROOT / "README.md", 0o644)):
            info = zipfile.ZipInfo(path.name, date)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, path.read_bytes())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    config = goreleaser()
    project = config["project_name"]
    build_config = config["builds"][0]
    binary = build_config["binary"]
    flags = build_config.get("flags", ["--release"])
    targets = sys.argv[1:] or build_config["targets"]
    unknown = [t for t in targets if t not in build_config["targets"]]
    if unknown:
        sys.exit(f"not a target in .goreleaser.yml: {unknown}")
    version = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
    metadata = subprocess.run(
        ["cargo", "metadata", "--format-version=1", "--no-deps"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    target_dir = Path(json.loads(metadata.stdout)["target_directory"])
    commit_time = subprocess.run(
        ["git", "log", "-1", "--format=%ct"], cwd=ROOT, check=True, capture_output=True, text=True
    )
    timestamp = int(commit_time.stdout)

    shutil.rmtree(DIST, ignore_errors=True)
    DIST.mkdir()
    built, failed = {}, {}
    for triple in targets:
        print(f"building {triple} ...", flush=True)
        try:
            path = build(triple, binary, flags, target_dir)
        except RuntimeError as err:
            failed[triple] = str(err)
            print(f"  not built: {err}", flush=True)
            continue
        built[triple] = check_binary(triple, path)
        zip_binary(path, DIST / f"{project}_{version}_{platform(triple)}.zip", timestamp)
        print(f"  {platform(triple)}: {built[triple]}", flush=True)

    manifest = DIST / f"{project}_{version}_manifest.json"
    shutil.copyfile(ROOT / "terraform-registry-manifest.json", manifest)
    artifacts = sorted(p for p in DIST.iterdir() if p.suffix in (".zip", ".json"))
    sums = "".join(f"{sha256(p)}  {p.name}\n" for p in artifacts)
    (DIST / f"{project}_{version}_SHA256SUMS").write_text(sums)

    lines = [
        f"{project} {version}: release snapshot, UNSIGNED.",
        f"No {project}_{version}_SHA256SUMS.sig: the release signs the SHA256SUMS with the",
        "maintainer's GPG key (see README, Cutting a release).",
        "",
        "Built:",
        *(f"  {t} ({platform(t)}): {what}" for t, what in built.items()),
    ]
    if failed:
        lines += ["", "Not built here:", *(f"  {t}: {why}" for t, why in failed.items())]
    (DIST / "SNAPSHOT.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if not built or REQUIRED in failed else 0


if __name__ == "__main__":
    sys.exit(main())
