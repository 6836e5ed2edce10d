"""The website's JavaScript comes from this repository, never from a CDN.

The book serves three npm packages itself, so a page works with no network (a projector in a room with
no internet, a laptop on a plane): MathJax 3 (formulas), RequireJS and @jupyter-widgets/html-manager
(saved widgets: the labs' explorers). A subset of each package is committed under ``_assets/npm/``
with its licence; ``_assets/npm/MANIFEST.json`` records, per package, the version, the npm
tarball's integrity (sha512, as the registry publishes it) and the sha256 of every committed file.

Usage:
    python scripts/vendor_assets.py            # check the committed files against the manifest (offline)
    python scripts/vendor_assets.py --refresh  # fetch the pinned versions with `npm pack`, verify the
                                                # tarballs' integrity, rewrite the files and the manifest

To move to a new version, change it in PACKAGES and run ``--refresh --accept-new``: the tarball's
integrity then comes from the registry (the check that it matches what the registry advertises still
runs) and is recorded for the next refresh. Needs ``npm`` only for ``--refresh``.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "_assets" / "npm"
MANIFEST = VENDOR / "MANIFEST.json"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    folder: str  # under _assets/npm/
    strip: str  # the prefix inside the tarball's package/ folder that is dropped
    keep: tuple[str, ...]  # glob patterns (after stripping) of the files the site needs


PACKAGES = (
    Package("requirejs", "2.3.8", "requirejs", "", ("require.js",)),
    Package(
        "@jupyter-widgets/html-manager",
        "1.0.15",
        "html-manager",
        "dist/",
        # the bundle and the icon fonts its style sheet points at (woff2, woff: what browsers load)
        ("embed-amd.js", "embed.js.LICENSE.txt", "*.woff2", "*.woff"),
    ),
    Package(
        "mathjax",
        "3.2.2",
        "mathjax",
        "es5/",
        # TeX input + CommonHTML output, its fonts, and the TeX packages it loads on demand
        ("tex-chtml.js", "output/chtml/fonts/woff-v2/*.woff", "input/tex/extensions/*.js"),
    ),
)

# Licence files that the tarballs do not carry at the stripped paths: copied from the tarball root
# when it has one, otherwise kept as committed (written from the package's own licence header).
LICENCE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity_of(tarball: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()


def load_manifest() -> dict[str, dict[str, object]]:
    return json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}


def check() -> list[str]:
    """Every problem with the committed files; an empty list means they match the manifest."""
    manifest = load_manifest()
    problems = []
    for pkg in PACKAGES:
        entry = manifest.get(pkg.name)
        if entry is None:
            problems.append(f"{pkg.name}: not in {MANIFEST.relative_to(ROOT)}")
            continue
        if entry["version"] != pkg.version:
            problems.append(f"{pkg.name}: manifest has {entry['version']}, PACKAGES pins {pkg.version}")
        files = entry["files"]
        assert isinstance(files, dict)
        folder = VENDOR / pkg.folder
        for rel, digest in files.items():
            path = folder / rel
            if not path.is_file():
                problems.append(f"{pkg.name}: {rel} is missing")
            elif sha256(path) != digest:
                problems.append(f"{pkg.name}: {rel} differs from the manifest")
        extra = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - set(files)
        problems += [f"{pkg.name}: {rel} is not in the manifest" for rel in sorted(extra)]
        if not any((folder / name).is_file() for name in LICENCE_NAMES):
            problems.append(f"{pkg.name}: no licence file in {folder.relative_to(ROOT)}")
    return problems


def npm_pack(pkg: Package, into: Path) -> tuple[Path, str]:
    """Fetch one pinned tarball with npm; return it and the integrity the registry advertises."""
    out = subprocess.run(
        ["npm", "pack", f"{pkg.name}@{pkg.version}", "--json", "--pack-destination", str(into)],
        check=True, capture_output=True, text=True,
    )
    (info,) = json.loads(out.stdout)
    if info["version"] != pkg.version:
        raise SystemExit(f"{pkg.name}: npm returned {info['version']}, expected {pkg.version}")
    return into / info["filename"], info["integrity"]


def refresh(accept_new: bool) -> None:
    manifest = load_manifest()
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in PACKAGES:
            tarball, advertised = npm_pack(pkg, Path(tmp))
            actual = integrity_of(tarball)
            if actual != advertised:
                raise SystemExit(f"{pkg.name}: tarball integrity {actual} != registry's {advertised}")
            old = manifest.get(pkg.name, {})
            if old.get("version") == pkg.version and old.get("integrity") != actual and not accept_new:
                raise SystemExit(f"{pkg.name}@{pkg.version}: the tarball changed since it was vendored")
            if old.get("version") != pkg.version and not accept_new:
                raise SystemExit(f"{pkg.name}: new version {pkg.version}; rerun with --accept-new")
            manifest[pkg.name] = {
                "version": pkg.version,
                "integrity": actual,
                "license": "",
                "files": extract(pkg, tarball),
            }
            meta = json.loads((VENDOR / pkg.folder / ".package.json").read_text())
            (VENDOR / pkg.folder / ".package.json").unlink()
            manifest[pkg.name]["license"] = meta.get("license", "")
            print(f"{pkg.name}@{pkg.version}: {len(manifest[pkg.name]['files'])} files")  # type: ignore[arg-type]
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def extract(pkg: Package, tarball: Path) -> dict[str, str]:
    """Replace the package's folder by the kept files (licence files survive); return their hashes."""
    folder = VENDOR / pkg.folder
    kept_licences = {n: (folder / n).read_bytes() for n in LICENCE_NAMES if (folder / n).is_file()}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith("package/"):
                continue
            inner = member.name.removeprefix("package/")
            source = tar.extractfile(member)
            assert source is not None
            if inner == "package.json":
                (folder / ".package.json").write_bytes(source.read())
            elif inner in LICENCE_NAMES:
                (folder / inner).write_bytes(source.read())
            elif inner.startswith(pkg.strip):
                rel = inner.removeprefix(pkg.strip)
                if any(fnmatch.fnmatch(rel, pattern) for pattern in pkg.keep):
                    target = folder / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(source.read())
    for name, data in kept_licences.items():
        if not (folder / name).is_file():
            (folder / name).write_bytes(data)
    return {
        p.relative_to(folder).as_posix(): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".package.json"
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refresh", action="store_true", help="fetch the pinned versions with npm")
    parser.add_argument("--accept-new", action="store_true", help="record a new version's integrity")
    args = parser.parse_args(argv)
    if args.refresh:
        refresh(args.accept_new)
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"vendored assets match {MANIFEST.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
