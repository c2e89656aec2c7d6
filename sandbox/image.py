"""Building the runner image, online from an official Python image or fully offline.

The image tag carries a hash of the files that go into it (Dockerfile, requirements and every
module of the in-container runner), so a changed runner can never run inside a stale image: the
pool asks for the tag of the code it runs, and says to build when that tag is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker
from docker.errors import APIError, BuildError, DockerException, ImageNotFound

from sandbox.errors import ImageBuildError

RUNNER_DIR = Path(__file__).parent / "runner"
IMAGE_REPO = "codefactory-runner"
DEFAULT_BASE = "python:3.11-slim"
OFFLINE_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"

Log = Callable[[str], None]


def runner_files() -> list[str]:
    """What goes into the image from ``sandbox/runner/``: the Dockerfile, the requirements and
    every Python module (the worker imports its siblings)."""
    modules = sorted(path.name for path in RUNNER_DIR.glob("*.py"))
    return ["Dockerfile.runner", "requirements.txt", *modules]


def runner_hash() -> str:
    digest = hashlib.sha256()
    for name in runner_files():
        digest.update(name.encode() + b"\0" + (RUNNER_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def default_image() -> str:
    """The tag of the runner image that matches this version of the worker."""
    return f"{IMAGE_REPO}:{runner_hash()}"


def build_image(
    client: docker.DockerClient,
    *,
    offline: bool = False,
    base_image: str | None = None,
    mirror: str = DEFAULT_MIRROR,
    suite: str = OFFLINE_SUITE,
    log: Log = print,
    force: bool = False,
) -> str:
    """Builds the runner image (unless already built) and returns its tag.

    Online, the base is ``base_image`` (an official Python image by default) and pip inside the
    build fetches pytest and coverage. Offline, the base is bootstrapped from Debian packages on
    the host (unless ``base_image`` names one already loaded), the wheels are downloaded on the
    host into the build context, and the build itself runs without a network.
    """
    digest = runner_hash()
    tag = f"{IMAGE_REPO}:{digest}"
    if not force and _exists(client, tag):
        log(f"{tag} is already built (use --force to rebuild)")
        return tag
    if not offline and base_image is None and not _pullable(client, DEFAULT_BASE, log):
        log(f"{DEFAULT_BASE} cannot be pulled here: building offline instead")
        offline = True
    with tempfile.TemporaryDirectory(prefix="codefactory-build-") as tmp:
        context = Path(tmp)
        runner = context / "runner"
        runner.mkdir()
        shutil.copy(RUNNER_DIR / "Dockerfile.runner", context / "Dockerfile")
        for name in runner_files()[1:]:
            shutil.copy(RUNNER_DIR / name, runner / name)
        if offline:
            base_image = base_image or bootstrap_base(client, mirror=mirror, suite=suite, log=log)
            download_wheels(client, base_image, runner / "wheels", log=log)
        base_image = base_image or DEFAULT_BASE
        log(f"building {tag} from {base_image}")
        try:
            _, logs = client.images.build(
                path=str(context),
                dockerfile="Dockerfile",
                tag=tag,
                buildargs={"BASE_IMAGE": base_image},
                network_mode="none" if offline else None,
                labels={"codefactory.runner": digest},
                rm=True,
                forcerm=True,
                pull=False,
                use_config_proxy=False,
            )
        except BuildError as exc:
            tail = "".join(str(line.get("stream", "")) for line in list(exc.build_log)[-15:])
            hint = "" if offline else " (no registry reachable? try --offline)"
            raise ImageBuildError(f"runner image build failed: {exc.msg}{hint}\n{tail}") from exc
        except (APIError, DockerException) as exc:
            hint = "" if offline else "; where no registry is reachable use --offline"
            raise ImageBuildError(f"runner image build failed: {exc}{hint}") from exc
        for line in logs:
            if "stream" in line and line["stream"].strip():
                log(line["stream"].rstrip())
    client.images.get(tag).tag(IMAGE_REPO, "latest")
    return tag


def _exists(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
        return True
    except ImageNotFound:
        return False


def _pullable(client: docker.DockerClient, image: str, log: Log) -> bool:
    if _exists(client, image):
        return True
    log(f"pulling {image}")
    try:
        client.images.pull(image)
        return True
    except DockerException as exc:
        log(f"pull failed: {str(exc)[:200]}")
        return False


def bootstrap_base(client: docker.DockerClient, *, mirror: str, suite: str, log: Log) -> str:
    """Makes ``codefactory-base:<suite>`` with debootstrap and ``docker import`` (once)."""
    tag = f"codefactory-base:{suite}"
    if _exists(client, tag):
        log(f"using existing base image {tag}")
        return tag
    if shutil.which("debootstrap") is None:
        raise ImageBuildError(
            "--offline needs debootstrap: install it with `apt-get install debootstrap`"
        )
    if os.geteuid() != 0:
        raise ImageBuildError("--offline bootstraps a Debian root file system and must run as root")
    with tempfile.TemporaryDirectory(prefix="codefactory-rootfs-") as tmp:
        root = Path(tmp) / "root"
        log(f"bootstrapping Debian {suite} from {mirror} (about a minute)")
        cmd = [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv",
            suite,
            str(root),
            mirror,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise ImageBuildError(f"debootstrap failed: {done.stdout[-800:]}{done.stderr[-800:]}")
        for path in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(root / path, ignore_errors=True)
        archive = Path(tmp) / "root.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(root, arcname=".")
        log(f"importing {tag}")
        client.api.import_image_from_file(str(archive), repository="codefactory-base", tag=suite)
    return tag


def download_wheels(client: docker.DockerClient, base_image: str, dest: Path, *, log: Log) -> None:
    """Downloads, on the host, wheels for the base image's Python into the build context."""
    probe = (
        "import json, platform, sys; print(json.dumps({'py': '%d.%d' % sys.version_info[:2],"
        " 'machine': platform.machine(), 'libc': platform.libc_ver()[1]}))"
    )
    try:
        out = client.containers.run(
            base_image, ["python3", "-c", probe], remove=True, network_mode="none", environment={}
        )
    except DockerException as exc:
        raise ImageBuildError(f"cannot run python3 in base image {base_image}: {exc}") from exc
    info = json.loads(out.decode().strip().splitlines()[-1])
    major, minor = (int(part) for part in (info["libc"] or "2.17").split(".")[:2])
    platforms = [f"manylinux_{major}_{m}_{info['machine']}" for m in range(17, minor + 1)]
    platforms += [f"manylinux2014_{info['machine']}", f"linux_{info['machine']}"]
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--only-binary=:all:",
        "--python-version",
        info["py"],
        "--implementation",
        "cp",
        "-d",
        str(dest),
        "-r",
        str(RUNNER_DIR / "requirements.txt"),
    ]
    for platform_tag in platforms:
        cmd += ["--platform", platform_tag]
    log(f"downloading wheels for Python {info['py']} ({info['machine']}) on the host")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise ImageBuildError(f"pip download failed: {done.stderr.strip()[-800:]}")
