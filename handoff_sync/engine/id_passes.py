"""Id moves that must wait for their holder: swaps and chains of re-links.

An id field may be unique in its system (Salesforce's external id refuses a second
holder with DUPLICATE_VALUE), so the sync layer sends ``Plan.writes`` in passes by
``FieldWrite.rank``: blanks first, then replacements, then the rest. That is enough when
a replacement takes an id that is free or that a blank lets go of. It is not when the
record holding the id is itself replacing it in the same pass: two opportunities swapping
registrations (each takes the id the other holds) or a chain of re-links (O3 takes P
from O1 while O3 hands its own P2 on). In any order within the pass one of them is
refused, and the same plan fails the same way every cycle.

Such a replacement is split in two writes of the record: a blank of the ids it holds
(rank 0: it lets go of its own id first, freeing it for whoever takes it) and the write
itself with the new id (rank 2: by then its holder let go of it). Every id a rank-1 write
takes is then held by nobody, by a record blanking it in rank 0 or by a record not
written at all, so one plan still settles it in one cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import MappingProxyType

from connectors.reading import is_blank
from handoff_sync.engine.types import FieldWrite
from handoff_sync.model import Role, Value

# (side, record id, id field) -> the value the record holds now (as read this cycle)
Held = Callable[[Role, str, str], Value]


def split_waiting_replacements(writes: Iterable[FieldWrite], held: Held) -> list[FieldWrite]:
    """``writes`` with each replacement whose new id another replacing record holds split
    into a blank (rank 0) and the write (rank 2); see the module docstring."""
    writes = list(writes)
    replacing: dict[tuple[Role, str, Value], str] = {}  # (side, field, id let go of) -> by
    for write in writes:
        if write.releases and write.rank == 1:  # most writes move no id: no rank to compute
            for name in write.releases:
                value = held(write.role, write.record_id, name)
                if write.values.get(name) is not None and not is_blank(value):
                    replacing[(write.role, name, value)] = write.record_id
    if not replacing:
        return writes
    out: list[FieldWrite] = []
    for write in writes:
        waiting = () if not write.releases or write.rank != 1 else tuple(
            name for name in write.releases if replacing.get(
                (write.role, name, write.values.get(name)), write.record_id)
            != write.record_id)
        if not waiting:
            out.append(write)
            continue
        out.append(FieldWrite(write.role, write.record_id, write.deal,
                              MappingProxyType(dict.fromkeys(waiting)), releases=waiting,
                              holds=write.holds))
        out.append(FieldWrite(write.role, write.record_id, write.deal, write.values,
                              write.outputs, tuple(n for n in write.releases
                                                   if n not in waiting)))
    return out


__all__ = ["Held", "split_waiting_replacements"]
