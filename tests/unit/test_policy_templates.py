from datetime import UTC, date, datetime
from decimal import Decimal

from handoff_sync.mapping.policy.file_model import Brief
from handoff_sync.mapping.policy.templates import (
    BLANK,
    format_value,
    placeholders,
    render,
    render_brief,
)


def test_placeholders_and_syntax_errors():
    assert placeholders("Hi {deal_name}, {{literal}} {custom.region}") == (
        ["deal_name", "custom.region"], [])
    names, errors = placeholders("bad { here and {} and }")
    assert names == []
    assert len(errors) == 3 and "unmatched '{'" in errors[0]


def test_render_substitutes_formats_and_escapes():
    text = render("{deal_name}: {amount} by {close_date} {{ok}} {missing} {competitors}",
                  {"deal_name": "Acme", "amount": Decimal("250000"),
                   "close_date": date(2026, 6, 30), "competitors": ("Acme", "Hooli")})
    assert text == f"Acme: 250,000 by 2026-06-30 {{ok}} {BLANK} Acme, Hooli"


def test_format_value():
    assert format_value(Decimal("12.5")) == "12.50"
    assert format_value(True) == "yes"
    assert format_value(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02 03:04 UTC"
    assert format_value(None) == BLANK


def test_brief_uses_if_blank_for_sections_with_nothing_captured():
    brief = Brief.model_validate({"title": "Brief: {deal_name}", "sections": [
        {"heading": "Stakeholders", "text": "{stakeholder_map}"},
        {"heading": "Risks", "text": "{open_risks}", "if_blank": "Ask the partner."}]})
    text = render_brief(brief, {"deal_name": "Acme", "stakeholder_map": "CFO signs"})
    assert text == "Brief: Acme\n\nStakeholders\nCFO signs\n\nRisks\nAsk the partner.\n"
