"""Monthly statements from the ledger: line items, storage GB-days, closing (idempotent,
never the current month), the CSV and the PDF."""

from datetime import date, datetime, timedelta, timezone as tz
from decimal import Decimal

import pytest

from config.charts import daily_chart, ranked_chart
from config.errors import NotFound
from tenants.billing.models import Statement
from tenants.billing.services import usage_record
from tenants.billing.statements import (
    BYTES_PER_GB, MonthNotClosable, month_of, statement_build, statement_close, statement_csv, statement_get,
    statement_pdf, statements_close, storage_gb_days,
)

pytestmark = pytest.mark.django_db
MAY = date(2024, 5, 1)


def at(day: int, hour: int = 12, month: int = 5) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=tz.utc)


def seed_may(tenant):
    usage_record(tenant=tenant, kind="panel_started", key="p1s", occurred_at=at(2), panel_id=1, panel_type="open",
                 quantity=5)
    usage_record(tenant=tenant, kind="panel_completed", key="p1c", occurred_at=at(2, 13), panel_id=1,
                 panel_type="open")
    usage_record(tenant=tenant, kind="panel_started", key="p2s", occurred_at=at(3), panel_id=2,
                 panel_type="delphi")
    usage_record(tenant=tenant, kind="panel_failed", key="p2f", occurred_at=at(3, 14), panel_id=2,
                 panel_type="delphi")
    for index, (model, tokens_in, tokens_out, cost) in enumerate(
            [("gpt-4o-mini", 1000, 500, "0.0012"), ("gpt-4o-mini", 2000, 100, "0.0008"), ("claude", 300, 30, "0.01")]):
        usage_record(tenant=tenant, kind="llm_call", key=f"call{index}", occurred_at=at(2 + index), panel_id=1,
                     panel_type="open", provider="openai" if model.startswith("gpt") else "anthropic", model=model,
                     input_tokens=tokens_in, output_tokens=tokens_out, cost=Decimal(cost))
    usage_record(tenant=tenant, kind="embeddings", key="emb1", occurred_at=at(4), quantity=42)


def test_a_month_has_panels_by_type_tokens_and_cost_by_model_storage_and_embeddings(alpha, beta):
    seed_may(alpha)
    seed_may_other = usage_record(tenant=beta, kind="llm_call", key="beta-call", occurred_at=at(2), model="other",
                                  input_tokens=99999, cost=Decimal("9"))
    assert seed_may_other
    usage_record(tenant=alpha, kind="llm_call", key="june", occurred_at=at(1, month=6), model="gpt-4o-mini",
                 input_tokens=7777)

    data = statement_build(tenant=alpha, month=MAY)

    panels = {(line["item"], line["unit"]): line["quantity"] for line in data["lines"] if line["section"] == "panels"}
    assert panels == {("open", "panels started"): 1, ("open", "panels completed"): 1,
                      ("delphi", "panels started"): 1, ("delphi", "panels failed"): 1}
    models = {line["item"]: line for line in data["lines"] if line["section"] == "llm"}
    assert models["openai/gpt-4o-mini"]["quantity"] == 2
    assert models["openai/gpt-4o-mini"]["input_tokens"] == 3000 and models["openai/gpt-4o-mini"]["cost"] == 0.002
    assert models["anthropic/claude"]["output_tokens"] == 30
    assert data["totals"]["tokens"] == 3930 and data["totals"]["cost"] == 0.012
    assert data["totals"]["embedding_texts"] == 42 and data["totals"]["panels_started"] == 2
    assert data["tier"] == alpha.tier and data["budget"]["tokens"]["used"] == 3930
    assert "other" not in str(data) and "99999" not in str(data) and "7777" not in str(data)


def test_storage_is_integrated_from_what_was_stored_before_the_month(alpha):
    usage_record(tenant=alpha, kind="storage_added", key="s-old", occurred_at=at(20, month=4), quantity=BYTES_PER_GB)
    usage_record(tenant=alpha, kind="storage_added", key="s-new", occurred_at=at(11, 0), quantity=2 * BYTES_PER_GB)
    usage_record(tenant=alpha, kind="storage_removed", key="s-gone", occurred_at=at(21, 0), quantity=2 * BYTES_PER_GB)

    # 1 GB all 31 days of May, plus 2 GB from the 11th to the 21st: 31 + 20 GB-days.
    assert storage_gb_days(tenant=alpha, start=at(1, 0), end=at(1, 0, month=6)) == pytest.approx(51)
    line = next(line for line in statement_build(tenant=alpha, month=MAY)["lines"] if line["section"] == "storage")
    assert line["quantity"] == pytest.approx(51)


def test_closing_a_month_twice_rebuilds_the_same_statement(alpha):
    seed_may(alpha)
    first = statement_close(tenant=alpha, month=MAY)
    usage_record(tenant=alpha, kind="llm_call", key="late", occurred_at=at(30), model="gpt-4o-mini",
                 input_tokens=70, cost=Decimal("0.5"))
    second = statement_close(tenant=alpha, month=date(2024, 5, 17))

    assert first.pk == second.pk and Statement.objects.filter(tenant=alpha).count() == 1
    assert second.totals["tokens"] == 4000 and second.totals["cost"] == 0.512
    assert statement_get(tenant=alpha, month=MAY)["status"] == "closed"


def test_the_current_and_future_months_cannot_be_closed(alpha):
    with pytest.raises(MonthNotClosable, match="not over yet"):
        statement_close(tenant=alpha, month=month_of())
    with pytest.raises(MonthNotClosable):
        statement_close(tenant=alpha, month=month_of() + timedelta(days=40))
    assert not Statement.objects.filter(tenant=alpha).exists()


def test_statements_close_writes_one_per_active_tenant(alpha, beta):
    seed_may(alpha)
    beta.status = "suspended"
    beta.save(update_fields=["status"])
    assert statements_close(MAY) >= 1
    assert Statement.objects.filter(tenant=alpha, month=MAY).exists()
    assert not Statement.objects.filter(tenant=beta, month=MAY).exists()


def test_the_current_month_is_an_open_statement_and_an_empty_past_month_is_not_found(alpha):
    assert statement_get(tenant=alpha, month=month_of())["status"] == "open"
    with pytest.raises(NotFound, match="nothing was used"):
        statement_get(tenant=alpha, month=date(2001, 1, 1))


def test_csv_and_pdf_carry_the_lines_and_totals(alpha):
    seed_may(alpha)
    data = statement_build(tenant=alpha, month=MAY)
    text = statement_csv(data)
    assert "openai/gpt-4o-mini" in text and "panels,delphi,panels failed,1" in text
    assert "total,,,,3300,630,0.012000" in text
    assert statement_pdf(data, tenant_name="Alpha Pharma").startswith(b"%PDF")


def test_usage_charts_draw_values_and_escape_labels():
    hostile = '<script>alert("x")</script>'
    svg = daily_chart(days=["2024-05-01", "2024-05-02"], series={hostile: [10, 30]}, measure="tokens")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'data-value="30"' in svg and "2024-05-02: 30" in svg
    ranked = ranked_chart(rows=[("alice", 100.0), ("bob", 50.0)], measure="tokens by user")
    assert 'data-label="alice" data-value="100"' in ranked and "bob: 50" in ranked
