"""bench/scoring.py on a tiny size (SQLite): its rows are leads as the service stores them, its raw floors
read what the service reads, and a whole run produces every figure of the report."""

import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import scoring as bench
from leadflow.demo.history import planted_leads
from leadflow.scoring.features import DEFAULT_FIELDS, values_of

OWNER = (uuid.uuid4(), uuid.uuid4())


def test_a_lead_tuple_holds_the_planted_lead_in_storage_form():
    planted = next(lead for lead in planted_leads(50, seed=3) if lead.fields.get("budget_amount"))
    closed = dict(zip(bench.LEAD_COLUMNS, bench.lead_tuple(planted, OWNER, closed=True, number=1), strict=True))
    assert closed["state"] == ("qualified" if planted.qualified else "disqualified")
    assert closed["closed_at"] == planted.closed_at and closed["created_at"] == planted.created_at
    assert closed["budget_amount_base"] == planted.fields["budget_amount"] * bench.MONEY_FACTOR
    assert closed["lead_source"] == planted.fields.get("lead_source")
    opened = dict(zip(bench.LEAD_COLUMNS, bench.lead_tuple(planted, OWNER, closed=False, number=1), strict=True))
    assert (opened["state"], opened["status_reason"], opened["closed_at"]) == ("open", "new", None)
    # The open row in memory has the values the scorer reads from the stored lead.
    row = bench.open_row(planted)
    assert row["closed_at"] is None
    assert values_of(row, DEFAULT_FIELDS)["email_kind"] in ("company", "free")


def test_a_tiny_run_on_sqlite_produces_every_figure(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "DATA_DIR", tmp_path)
    results = bench.main(
        [
            "--backend",
            "sqlite",
            "--leads",
            "600",
            "--history",
            "1200",
            "--samples",
            "3",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert (tmp_path / "r.json").exists()
    assert not (tmp_path / "scoring.db").exists()  # removed at the end without --keep
    quality = results["quality"]
    assert 0.5 < quality["auc"] <= 1 and 0.5 < quality["oracle_auc"] <= 1
    assert 0 <= quality["top_reason_share"] <= 1 and quality["held_out"] == 240
    assert quality["fit_seconds"] > 0
    assert results["compute"]["leads"] == 600 and results["compute"]["leads_per_s"] > 0
    (run,) = results["runs"]
    assert run["training"]["history_rows"] == 1200  # the raw read finds the history training reads
    assert run["training"]["seconds"] > 0 and run["training"]["auc"] is not None
    assert run["rescore_floor"]["leads"] == run["rescore_all"]["leads"] == 600
    assert run["rescore_all"]["lead_scores_rows"] == run["rescore_all"]["scored_leads"] == 600
    assert set(run["single"]) >= {"without", "with", "cost_p50_ms", "cost_p95_ms"}
    cases = {(case["sort"], case["grade"], case["page"]) for case in run["list"]}
    assert cases == {
        (sort, grade, page)
        for sort in ("-score", "-created_at")
        for grade in (None, "A")
        for page in ("first", "later")
    }
    assert all(case["uses_score_index"] for case in run["list"] if case["sort"] == "-score")
    rows = bench.summary_rows(results)
    assert len(rows) == 4 + 4 + 4
    assert len(bench.table(["target", "measured", "baseline", "met"], rows).splitlines()) == 2 + len(rows)
