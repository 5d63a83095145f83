"""File-drop test support: the mappings folder of a PRM that exports CSV files.

``FILES_YAML`` maps the columns of a portal's registration export (the ones the tests and
benchmarks/file_drop.py write); ``file_drop_mappings`` puts it beside the default
salesforce.yaml and handoff.yaml, so the PRM side of the pack is the file drop.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

EXPORT_COLUMNS = ("Registration ID", "Deal Name", "Customer", "Website", "Amount",
                  "Close Date", "Status", "Partner", "Partner Rep", "Competitors",
                  "Prospect Prepared", "Last Modified")
FILES_YAML = """\
version: 1
role: prm
object: registrations
modified_field: Last Modified
fields:
  prm_id: Registration ID
  deal_name: Deal Name
  account_name: Customer
  account_domain: Website
  amount: {field: Amount, transform: currency}
  currency: {constant: USD}
  close_date: {field: Close Date, transform: date}
  registration_status:
    field: Status
    values: {Submitted: submitted, Approved: approved, Rejected: rejected}
  partner_account: Partner
  partner_rep_email: Partner Rep
  competitors: {field: Competitors, transform: multi_select}
  partner_prepared_prospect: {field: Prospect Prepared, transform: bool}
"""


def file_drop_mappings(folder: Path, files_yaml: str = FILES_YAML) -> Path:
    """``folder`` (created) holding files.yaml as the PRM side beside the default CRM
    and handoff policy; returns ``folder``."""
    folder.mkdir(parents=True)
    for name in ("handoff.yaml", "salesforce.yaml"):
        shutil.copy(REPO / "mappings" / name, folder / name)
    (folder / "files.yaml").write_text(files_yaml, encoding="utf-8")
    return folder
