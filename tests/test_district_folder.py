"""A district is a folder: `minsheng init` writes one, `minsheng validate` checks it whole
(file and line of every problem), the working directory's configs/ or --config-dir wins over
the packaged defaults, and errors are one line with exit code 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.conftest import point_settings_at


@pytest.fixture
def cli(tmp_path, monkeypatch):
    from flows.cli import app

    point_settings_at(tmp_path, monkeypatch)
    # --config-dir and --debug set these for the process: restored when the test ends
    monkeypatch.setenv("MINSHENG_CONFIG_DIR", "")
    monkeypatch.setenv("MINSHENG_DEBUG", "")
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args))

    return run


def test_init_writes_a_folder_that_validates(cli, tmp_path):
    folder = tmp_path / "district"
    made = cli("init", str(folder))
    assert made.exit_code == 0, made.output
    assert {p.name for p in folder.iterdir()} >= {"district.yaml", "taxonomy.yaml", "channels.yaml",
                                                   "supply.yaml", "matching.yaml", "base.yaml", "jieba"}
    checked = cli("--config-dir", str(folder), "validate")
    assert checked.exit_code == 0, checked.output
    assert "0 error(s)" in checked.output
    assert "no survey block" in checked.output and "no adjacency table" in checked.output
    assert "政府部门" in checked.output  # a provider kind of the district's own: a note, not an error
    again = cli("init", str(folder))
    assert again.exit_code == 2 and "already exist" in again.output and "--force" in again.output


def test_validate_names_file_and_line_of_every_problem(cli, tmp_path):
    folder = tmp_path / "district"
    cli("init", str(folder))
    district = (folder / "district.yaml").read_text(encoding="utf-8")
    (folder / "district.yaml").write_text(district.replace("code: C02", "code: C 02"), encoding="utf-8")
    supply = (folder / "supply.yaml").read_text(encoding="utf-8")
    (folder / "supply.yaml").write_text(supply.replace("property: primary", "parking_lots: primary"), encoding="utf-8")
    (folder / "channels.yaml").write_text("hotline:\n  fields: {order_id: 编号}\nfax:\n  fields: {}\n", encoding="utf-8")
    checked = cli("--config-dir", str(folder), "validate")
    assert checked.exit_code == 2
    line = 1 + district.splitlines().index("  - code: C02")
    assert f"district.yaml:{line}: communities.1.code" in checked.output
    assert "channels.yaml:1: hotline: no column mapped for received_at, text" in checked.output
    assert "channels.yaml:3: unknown channel 'fax'" in checked.output
    # the district fails first, so the registry is judged against the taxonomy once it is fixed
    (folder / "district.yaml").write_text(district, encoding="utf-8")
    checked = cli("--config-dir", str(folder), "validate")
    assert "parking_lots" in checked.output and checked.exit_code == 2


def test_the_working_directorys_configs_win_over_the_packaged_ones(cli, tmp_path, monkeypatch):
    from minsheng.settings import load_settings, packaged_config_dir

    monkeypatch.chdir(tmp_path)
    assert load_settings().config_dir == packaged_config_dir()
    cli("init", "configs")
    s = load_settings()
    assert s.config_dir == (tmp_path / "configs").resolve() and s.district.name == "示例街道"
    assert s.registry == s.config_dir / "supply.yaml"
    (tmp_path / "configs" / "matching.yaml").unlink()  # a file the folder lacks: the packaged one
    assert load_settings().matching_config == packaged_config_dir() / "matching.yaml"
    missing = cli("--config-dir", str(tmp_path / "nowhere"), "validate")
    assert missing.exit_code == 2 and missing.output.count("\n") == 1
    assert "config folder" in missing.output and "minsheng init" in missing.output


def test_a_model_whose_labels_the_taxonomy_does_not_know_stops_process(cli, tmp_path, monkeypatch):
    from models.registry import staging_version, use

    folder = tmp_path / "district"
    cli("init", str(folder))
    models = tmp_path / "data" / "models"
    with staging_version(models, "board") as tmp:
        card = {"version": "20260101T000000Z-x", "labels": ["城乡建设", "劳动和社会保障"],
                "embedder": {"kind": "project", "path": None}}
        (tmp / "card.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    use(models, "board")
    checked = cli("--config-dir", str(folder), "validate")
    assert checked.exit_code == 2 and "城乡建设" in checked.output and "label_map" in checked.output
    refused = cli("--config-dir", str(folder), "process")
    assert refused.exit_code == 2 and "label_map" in refused.output
    taxonomy = folder / "taxonomy.yaml"
    taxonomy.write_text(taxonomy.read_text(encoding="utf-8")
                        + "label_map:\n  城乡建设: property\n  劳动和社会保障: employment\n", encoding="utf-8")
    assert cli("--config-dir", str(folder), "validate").exit_code == 0


def test_errors_are_one_line_with_exit_code_2(cli, tmp_path):
    folder = tmp_path / "district"
    cli("init", str(folder))
    (folder / "district.yaml").write_text("name: x\ncommunities: nope\n", encoding="utf-8")
    broken = cli("--config-dir", str(folder), "generate", "--out", str(tmp_path / "g"), "--weeks", "1")
    assert broken.exit_code == 2 and "Traceback" not in broken.output
    assert broken.output.strip().count("\n") == 0 and broken.output.startswith("error: ")
    unknown = cli("ingest", "fax", str(tmp_path))
    assert unknown.exit_code == 2 and "unknown channel 'fax'" in unknown.output
    debug = cli("--debug", "--config-dir", str(folder), "generate", "--out", str(tmp_path / "g"), "--weeks", "1")
    assert debug.exit_code != 0 and debug.exception is not None  # --debug lets the exception through
