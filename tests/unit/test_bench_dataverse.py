"""bench/dataverse.py on a tiny size (SQLite): its bodies are what the Web API and the REST API take, its
floor writes what CreateMultiple writes, its database holds the leads and indexes it says, and each part
produces the rows of the report."""

import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import dataverse as bench
import qualify as qualify_bench

OWNER = (uuid.uuid4(), uuid.uuid4())


def _leads(count, seed=5):
    return [data for _id, data in qualify_bench.lead_data(seed, count)]


def test_a_lead_row_holds_the_created_fields_in_storage_form():
    data = next(data for data in _leads(20) if data["budget_amount"] is not None and data["first_name"])
    row = dict(
        zip(bench.LEAD_COLUMNS, bench.lead_row(uuid.uuid4(), data, OWNER, created=datetime.now(UTC)), strict=True)
    )
    assert row["email"] == data["email"]
    assert row["budget_amount"] == row["budget_amount_base"] == int(data["budget_amount"] * 10_000)
    assert row["exchange_rate"] == bench.RATE_ONE
    assert row["full_name"] == f"{data['first_name']} {data['last_name']}"
    assert row["job_title"] is None  # not in a CreateMultiple item
    assert (row["state"], row["status_reason"], row["owner_user_id"]) == ("open", "new", OWNER[0])


def test_the_dataverse_body_names_the_lead_in_dataverse_terms():
    data = next(data for data in _leads(20) if data["lead_source"] == "trade_show" or data["lead_source"])
    body = bench.dataverse_body(data)
    assert body["subject"] == data["topic"]
    assert body["emailaddress1"] == data["email"]
    assert isinstance(body["leadsourcecode"], int)
    assert set(bench.rest_body(data)) <= {*bench.CREATE_FIELDS, "budget_amount"}


def test_create_part_makes_the_leads_and_its_report_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'create.db'}"
    result = bench.bench_create(url, count=15, repeats=2, seed=3)
    assert set(result["ways"]) == {"CreateMultiple", "REST single POSTs", "raw-driver floor"}
    # The floor writes the columns CreateMultiple writes: nothing on one side only.
    assert result["only_service_columns"] == result["only_floor_columns"] == []
    rows = bench.create_rows("sqlite", result)
    assert [row[1] for row in rows] == ["CreateMultiple", "REST single POSTs", "raw-driver floor"]
    assert rows[2][-1] == "1.0"  # the floor against itself
    assert all(row[2] == "15" for row in rows)
    connection = bench.activities_bench.raw_connection(url)
    assert connection.execute("SELECT count(*) FROM leads").fetchone()[0] == 2 * 3 * 15
    connection.close()


def test_query_part_reads_one_lead_by_email_and_the_leads_of_the_account(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "DATA_DIR", tmp_path)
    url = f"sqlite:///{tmp_path / 'leads.db'}"
    setup = bench.populate("sqlite", url, leads=50, seed=4, postgres_url="")
    connection = bench.activities_bench.raw_connection(url)
    assert connection.execute("SELECT count(*) FROM leads").fetchone()[0] == 50
    # The indexes dropped for the load are all there again.
    assert len(bench.secondary_indexes(connection, sqlite=True)) == setup["indexes_rebuilt"] > 10
    connection.close()
    result = bench.bench_query(url, setup, samples=2, warmup=0)
    rows = bench.query_rows("sqlite", result)
    assert [row[3] for row in rows] == ["1", str(bench.PARENT_LEADS)]
    assert [case["minimal_rows"] for case in result["cases"]] == [1, bench.PARENT_LEADS]
    assert all("FROM leads" in case["sql"] and case["plan"] for case in result["cases"])
    assert len(bench.table(bench.QUERY_HEADER, rows).splitlines()) == 2 + len(rows)
