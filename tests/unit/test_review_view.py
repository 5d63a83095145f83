"""`handoff-sync review` text: unresolved_owner items folded per person, the rest as is."""

from __future__ import annotations

from typing import Any

from handoff_sync.cli.review_view import group_reviews, render_reviews


def item(key: str, kind: str, deal: str, *, email: str | None = None, role: str = "prm_owner",
         status: str = "open", pipeline: str = "partners") -> dict[str, Any]:
    details = {"role": role, "email": email} if kind == "unresolved_owner" else {}
    return {"pipeline": pipeline, "key": key, "kind": kind, "deal": deal, "status": status,
            "summary": f"summary of {key}", "candidates": [], "details": details}


def owner(deal: str, email: str | None, **kw: Any) -> dict[str, Any]:
    role = kw.get("role", "prm_owner")
    return item(f"unresolved_owner:{deal}:{role}", "unresolved_owner", deal, email=email, **kw)


def test_owner_items_fold_per_pipeline_status_role_and_email_in_list_order() -> None:
    items = [owner("prm:1", "pat@p.example"), item("channel_conflict:2,3", "channel_conflict",
                                                   "prm:2"),
             owner("prm:4", "PAT@p.example"), owner("prm:5", "pat@p.example", role="cs_owner"),
             owner("prm:6", "pat@p.example", status="dismissed"),
             owner("prm:7", "pat@p.example", pipeline="direct"), owner("prm:8", None),
             owner("prm:9", None)]
    entries = group_reviews(items)
    assert [(e.first["deal"], e.deals) for e in entries] == [
        ("prm:1", ["prm:1", "prm:4"]), ("prm:2", []), ("prm:5", ["prm:5"]),
        ("prm:6", ["prm:6"]), ("prm:7", ["prm:7"]), ("prm:8", ["prm:8", "prm:9"])]


def test_the_text_counts_items_names_the_person_and_says_how_to_dismiss_them() -> None:
    deals = [owner(f"prm:{i}", "pat@p.example") for i in range(7)]
    text = render_reviews([item("ambiguous_link:prm:90", "ambiguous_link", "prm:90"), *deals,
                           owner("prm:91", None, role="cs_owner")])
    lines = text.splitlines()
    assert lines[0] == ("9 review items: ambiguous_link 1, unresolved_owner 8 "
                        "(in 2 by person)")
    assert "[open] partners ambiguous_link:prm:90" in lines
    block = lines[lines.index("[open] partners unresolved_owner prm_owner pat@p.example: "
                              "7 deals"):][:4]
    assert block[2] == "    deals: prm:0, prm:1, prm:2, prm:3, prm:4 (+2 more)"
    assert block[3] == "    dismiss them all: handoff-sync review dismiss --owner pat@p.example"
    assert "[open] partners unresolved_owner cs_owner (none on the deal): 1 deal" in lines
    assert lines[-1] == ("    dismiss one: handoff-sync review dismiss "
                         "unresolved_owner:DEAL:cs_owner")
    assert render_reviews([]) == "no review items\n"
