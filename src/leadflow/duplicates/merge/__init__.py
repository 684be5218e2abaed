"""Merge duplicate accounts, contacts or leads, and undo a merge exactly (§9).

A merge keeps the master: field by field the surviving value is the master's unless it is blank
(or the caller chose the subordinate's), the subordinate's children are re-pointed at the master,
and the subordinate is deactivated with a link to its master. Everything the merge changed is
written to the merge journal: both records' full rows as they were, and every child it moved with
the row version it had before and after. Undo puts all of it back, row versions and modification
times included, so that a client holding an ETag from before the merge finds the record unchanged.
Undo refuses when any of those rows changed after the merge: restoring them would lose that work.

``policy`` holds the rules as data, ``plan`` checks and previews, ``execute`` merges, ``undo``
undoes, ``journal`` reads what was merged.
"""

from leadflow.duplicates.merge.execute import merge_records
from leadflow.duplicates.merge.journal import get_merge, journal_out, list_merges, moved_summary
from leadflow.duplicates.merge.plan import ChildMove, MergePreview, may_merge, preview_merge
from leadflow.duplicates.merge.policy import (
    CHOICES,
    MASTER,
    POLICIES,
    SUBORDINATE,
    MergePolicy,
    field_value,
    mergeable_fields,
    policy_for,
)
from leadflow.duplicates.merge.snapshot import from_json, row_snapshot, row_values, to_json
from leadflow.duplicates.merge.undo import undo_merge

__all__ = [
    "field_value",
    "mergeable_fields",
    "CHOICES",
    "MASTER",
    "POLICIES",
    "SUBORDINATE",
    "ChildMove",
    "MergePolicy",
    "MergePreview",
    "from_json",
    "get_merge",
    "journal_out",
    "list_merges",
    "may_merge",
    "merge_records",
    "moved_summary",
    "policy_for",
    "preview_merge",
    "row_snapshot",
    "row_values",
    "to_json",
    "undo_merge",
]
