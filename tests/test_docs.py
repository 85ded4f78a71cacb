"""The dataset card: current with schemas/ (the CI check), complete, and its reading snippets run."""

from __future__ import annotations

import re
import subprocess
import sys

import duckdb
from typer.testing import CliRunner

from pipeline import contracts, docs, manifest, warehouse
from pipeline.cli import app
from tests.conftest import REPO
from tests.test_warehouse_swap import publish_night

DATE = "2026-01-07"


def test_committed_card_is_current_with_schemas():
    """What CI checks: regenerate with `geowire docs` and commit when this fails."""
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "docs", "--check"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, result.stderr


def test_a_stale_card_fails_the_check_with_a_diff(tmp_path, monkeypatch):
    stale = tmp_path / "DATASET.md"
    stale.write_text(docs.CARD_MD.read_text(encoding="utf-8").replace("Outlet or feed name.", "Outlet."))
    monkeypatch.setattr(docs, "CARD_MD", stale)
    result = CliRunner().invoke(app, ["docs", "--check"])
    assert result.exit_code == 1
    assert "-| `source` | `string` | `VARCHAR` | no | Outlet. |" in result.stderr
    assert "+| `source` | `string` | `VARCHAR` | no | Outlet or feed name. |" in result.stderr
    assert "geowire docs" in result.stderr


def test_card_lists_every_table_and_column():
    card = docs.render_markdown()
    html = docs.render_html(card)
    for contract in contracts.all_tables():
        assert f"### {contract.name}" in card and f'<h3 id="{contract.name}">' in html
        for column in contract.columns:
            null = "yes" if column.nullable else "no"
            assert f"| `{column.name}` | `{column.type}` | `{column.duckdb_type}` | {null} |" in card
    assert f"data contract version {contracts.schema_version()}" in card
    assert html.count("<table>") == len(contracts.table_names()) + 3  # tables, ids, actor ids, licences
    for section in ("Versioning", "How to read it", "Known limits", "Licences of the sources", "Manifests"):
        assert f"## {section}" in card


def test_reading_snippets_run_on_a_warehouse(tmp_path, monkeypatch):
    """The pandas, pyarrow, DuckDB and manifest snippets as printed, on a real warehouse (polars is not a
    dependency of the project, so its snippet is the one not run)."""
    wh = tmp_path / "warehouse"
    publish_night(wh, DATE)
    contents = manifest.describe(
        {t: wh / "parquet" / t / f"date={DATE}" / "part-0.parquet" for t in contracts.table_names()}, DATE
    )
    manifest.write(wh, DATE, contents)
    warehouse.load_partition(wh, DATE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(REPO))
    card = docs.render_markdown()
    python = [b for b in re.findall(r"```python\n(.*?)```", card, re.S) if "polars" not in b]
    assert len(python) == 4
    for block in python:
        namespace: dict = {}
        exec(block, namespace)
    assert namespace["con"].execute("SELECT count(*) FROM news.articles").fetchall() == [(1,)]
    [sql] = re.findall(r"```sql\n(.*?)```", card, re.S)
    assert duckdb.sql(sql).fetchall() == []  # the night has no events
