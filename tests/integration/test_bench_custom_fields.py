"""bench/custom_fields.py on a tiny size (SQLite): the leads it writes with the raw driver hold custom values
the service reads back, and a whole run produces every figure of its report (no timing is asserted)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import custom_fields as bench


def test_the_generated_values_are_what_the_service_accepts_and_stores():
    import random

    from leadflow.fields.values import to_stored

    fields = bench.probes()
    assert len(bench.LEAD_FIELDS) == len(fields) == 50
    assert bench.SEARCHABLE == ["region", "seats", "contract_end"]
    values = bench.custom_input(random.Random(1))
    assert set(bench.SEARCHABLE) <= set(values)
    stored = {name: to_stored(fields[name], value) for name, value in values.items()}
    assert all(value is not None for value in stored.values())
    fragment = bench.stored_fragments(random.Random(2), 1)[0]
    assert "region" not in fragment and fragment.startswith('"')


def test_a_tiny_run_on_sqlite_produces_every_figure(tmp_path, capsys):
    results = bench.main(
        [
            "--backend",
            "sqlite",
            "--leads",
            "1000",
            "--creates",
            "5",
            "--qualify-leads",
            "40",
            "--batch-size",
            "20",
            "--samples",
            "2",
            "--warmup",
            "1",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert (tmp_path / "r.json").exists()
    (run,) = results["runs"]
    cases = run["list"]["cases"]
    assert {(case["kind"], case["pair"]) for case in cases} == {
        (kind, pair) for kind in ("custom", "baseline") for pair in range(3)
    }
    assert {case["view"] for case in cases} == {"all", "my-open"}
    assert all(case["rows"] > 0 and case["p50_ms"] > 0 for case in cases)
    # Every custom list walks a custom field's index, on SQLite at least.
    assert all(case["uses_custom_index"] for case in cases if case["kind"] == "custom")
    assert set(run["list"]["setup"]["index_build_seconds"]) == {"region", "seats", "contract_end"}
    assert set(run["create"]["cases"]) == {"50 values (50 fields)", "no values (50 fields)", "no values (no field)"}
    qualified = run["qualify"]["runs"]
    assert qualified["with mappings"]["ok"] == qualified["without"]["ok"] == 40
    assert qualified["with mappings"]["opportunities_with_mapped_values"] == qualified["with mappings"]["opportunities"]
    assert qualified["without"]["opportunities_with_mapped_values"] == 0
    rows = bench.summary_rows(results)
    assert len(rows) == sum(case["kind"] == "custom" for case in cases) + 2
    printed = capsys.readouterr().out
    assert "| target |" in printed and "ix_cf_leads_seats" in printed
