"""The container build file: no Docker engine runs here, so what can be checked without one is:
the files it copies exist, its command line is one `regime serve` accepts, and its health check
command passes against a running server (and fails against none)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from cli.main import cli
from tests.service.conftest import ROOT, ThreadServer

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instruction(name: str) -> list[str]:
    """The JSON (exec) form of a Dockerfile instruction, continuation lines joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    match = re.search(rf"^{name}\s.*?(\[.*\])\s*$", text, re.M)
    assert match, name
    return list(json.loads(match.group(1)))


def test_every_copied_path_exists() -> None:
    for src in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", DOCKERFILE, re.M):
        for part in src.split():
            assert (ROOT / part).exists(), part


def test_every_package_directory_the_install_needs_is_copied() -> None:
    """`pip install .` in the image fails on a package directory pyproject names but the build
    never copied (it once lacked `adapters`)."""
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    mapped = setuptools.get("package-dir", {})
    needed = {mapped.get(p, p.replace(".", "/")).split("/")[0] for p in setuptools["packages"]}
    copied = {m.split("/")[0] for m in re.findall(r"^COPY (\S+) \S+$", DOCKERFILE, re.M)}
    assert needed <= copied, needed - copied


def test_the_command_is_one_regime_serve_accepts() -> None:
    argv = instruction("CMD")
    assert argv[:2] == ["regime", "serve"]
    ctx = cli.make_context("regime", argv[1:])
    sub = cli.get_command(ctx, "serve")
    assert sub is not None
    params = sub.make_context("serve", argv[2:]).params
    assert params["database_url"] == "sqlite:////data/decisions.db"
    assert str(params["jwks"]) == "/config/jwks.json" and not params["insecure_no_auth"]


def test_the_health_check_passes_on_a_serving_server(server: ThreadServer) -> None:
    argv = instruction("HEALTHCHECK.*?CMD")
    assert argv[0] == "python"
    port = server.url.rsplit(":", 1)[1]
    code = argv[2].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
    dead = argv[2].replace("127.0.0.1:8080", "127.0.0.1:9")
    assert (
        subprocess.run([sys.executable, "-c", dead], capture_output=True, timeout=60).returncode
        != 0
    )


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "*.db", ".regime-dev"} <= set(ignored)
    assert Path(ROOT / "Dockerfile").is_file()
